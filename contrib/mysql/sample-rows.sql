-- Sample registrations for trying dundid against a scratch database:
--   mariadb asterisk < sippeers.sql; mariadb asterisk < ps_contacts.sql
--   mariadb asterisk < sample-rows.sql
-- Expiries are one hour from loading; rerun to refresh them.

-- chan_sip: 1001 and 1002 on regpbx1, 1003 on regpbx2, 1004 unregistered
-- (what chan_sip leaves behind), 1005 registered to a server without a
-- systemname (empty regserver: dundid needs default_registrar for it).
INSERT INTO sippeers (name, type, host, context, secret, fullcontact, regseconds, ipaddr, port, regserver, useragent)
VALUES
  ('1001', 'friend', 'dynamic', 'phones', 'pw1001', 'sip:1001@10.10.10.61:5060', UNIX_TIMESTAMP() + 3600,
   '10.10.10.61', 5060, 'regpbx1', 'Yealink SIP-T46S'),
  ('1002', 'friend', 'dynamic', 'phones', 'pw1002', 'sip:1002@10.10.10.63:5060', UNIX_TIMESTAMP() + 3600,
   '10.10.10.63', 5060, 'regpbx1', 'Polycom VVX 411'),
  ('1003', 'friend', 'dynamic', 'phones', 'pw1003', 'sip:1003@10.10.20.17:5060', UNIX_TIMESTAMP() + 3600,
   '10.10.20.17', 5060, 'regpbx2', 'Grandstream GXP2170'),
  ('1004', 'friend', 'dynamic', 'phones', 'pw1004', '', 0, '', 0, '', ''),
  ('1005', 'friend', 'dynamic', 'phones', 'pw1005', 'sip:1005@10.10.20.30:5062', UNIX_TIMESTAMP() + 3600,
   '10.10.20.30', 5062, '', 'Linphone');

-- pjsip: 2001 with two phones (desk and softphone) on regpbx3.
INSERT INTO ps_contacts (id, uri, expiration_time, qualify_frequency, user_agent, reg_server, via_addr, via_port,
                         endpoint, prune_on_boot)
VALUES
  ('2001;@0f4e1c2b9a8d7e6f', 'sip:2001@10.10.30.21:5060', UNIX_TIMESTAMP() + 3600, 60, 'Yealink SIP-T54W',
   'regpbx3', '10.10.30.21', 5060, '2001', 'no'),
  ('2001;@5a6b7c8d9e0f1a2b', 'sip:2001@10.10.30.99:5080;transport=udp', UNIX_TIMESTAMP() + 3600, 60,
   'Zoiper rv2.10', 'regpbx3', '10.10.30.99', 5080, '2001', 'no'),
  ('2002;@1b2c3d4e5f6a7b8c', 'sip:2002@10.10.30.22:5060', UNIX_TIMESTAMP() + 3600, 60, 'Cisco SPA504G',
   'regpbx3', '10.10.30.22', 5060, '2002', 'no');
