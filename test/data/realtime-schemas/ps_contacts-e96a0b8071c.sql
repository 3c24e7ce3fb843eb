-- ps_contacts as Asterisk's alembic revision e96a0b8071c (2014-04-23) left
-- it: before reg_server (81b01a191a46), via_addr/via_port/call_id
-- (a845e4d8ade8) and endpoint (ef7efc2d3964) existed, and expiration_time
-- was still text. dundid must read it: those columns are optional.
CREATE TABLE ps_contacts (
    id VARCHAR(255),
    uri VARCHAR(255),
    expiration_time VARCHAR(40),
    qualify_frequency INTEGER,
    outbound_proxy VARCHAR(40),
    path TEXT,
    user_agent VARCHAR(255),
    UNIQUE (id)
);
CREATE INDEX ps_contacts_id ON ps_contacts (id);
