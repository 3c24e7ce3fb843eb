-- ps_contacts as contrib/mysql/ps_contacts.sql had it before issue 17: the
-- alembic chain up to before dac2b4c328b8 (2023-09-23; endpoint and
-- outbound_proxy still 40 characters, yes/no enums, no qualify_2xx_only).
-- Kept to test that dundid reads an older table too.
-- res_pjsip RealTime contacts, as Asterisk's alembic migrations leave the
-- ps_contacts table (Asterisk 16 and later). res_pjsip inserts one row per
-- registered contact, updates expiration_time on every refresh and deletes
-- the row on unregistration or expiry. id is "AOR;@hash"; dundid takes the
-- AOR as the extension (the endpoint column only when the AOR part is
-- empty). reg_server is Asterisk's systemname (asterisk.conf).
CREATE TABLE ps_contacts (
    id VARCHAR(255),
    uri VARCHAR(511),
    expiration_time BIGINT,
    qualify_frequency INTEGER,
    outbound_proxy VARCHAR(40),
    path TEXT,
    user_agent VARCHAR(255),
    qualify_timeout FLOAT,
    reg_server VARCHAR(255),
    authenticate_qualify ENUM('yes','no'),
    via_addr VARCHAR(40),
    via_port INTEGER,
    call_id VARCHAR(255),
    endpoint VARCHAR(40),
    prune_on_boot ENUM('yes','no'),
    UNIQUE (id),
    CONSTRAINT ps_contacts_uq UNIQUE (id, reg_server)
);

CREATE INDEX ps_contacts_id ON ps_contacts (id);
CREATE INDEX ps_contacts_qualifyfreq_exp ON ps_contacts (qualify_frequency, expiration_time);
