-- The cluster paper's chan_sip table is called `sip` (extconfig.conf:
-- sippeers => mysql,general,sip). Same columns as sippeers; load
-- sippeers.sql first, then this, and set "table = sip" in [realtime].
CREATE TABLE sip LIKE sippeers;
