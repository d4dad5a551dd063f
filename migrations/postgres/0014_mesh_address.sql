-- Where each node's mesh (node-to-node actor sessions, issue 19) accepts peers: host:port.
-- Written by the node when its mesh starts; NULL for a node without one.
ALTER TABLE cluster_nodes ADD COLUMN mesh_address TEXT CHECK (mesh_address <> '');
