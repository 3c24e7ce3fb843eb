-- Not Asterisk's: a hand-made chan_sip table with columns in another
-- order, upper-case names, extra columns of its own, and without the
-- optional ipaddr/port/regserver/useragent. dundid reads it by name.
CREATE TABLE sippeers (
    Notes TEXT,
    RegSeconds BIGINT,
    secret VARCHAR(40),
    FULLCONTACT VARCHAR(255),
    name VARCHAR(40) NOT NULL,
    lastms INTEGER,
    UNIQUE (name)
);
