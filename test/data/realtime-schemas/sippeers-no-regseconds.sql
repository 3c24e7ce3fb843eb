-- A broken chan_sip table: regseconds (needed) is missing. dundid must say
-- so by name, not load anything.
CREATE TABLE sippeers (
    name VARCHAR(40) NOT NULL,
    fullcontact VARCHAR(255),
    ipaddr VARCHAR(45),
    port INTEGER,
    regserver VARCHAR(20),
    useragent VARCHAR(255),
    UNIQUE (name)
);
