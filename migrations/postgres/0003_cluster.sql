-- Cluster membership and shard ownership (DESIGN §5). A single node leaves these tables empty
-- and writes unfenced; nodes of a cluster fence every append with their shard lease.

-- Every node that has joined: where its gRPC endpoint is, and its last heartbeat.
CREATE TABLE cluster_nodes (
    node_id      TEXT        PRIMARY KEY CHECK (node_id <> ''),
    grpc_address TEXT        NOT NULL CHECK (grpc_address <> ''),
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set by a node that is shutting down: it gets no new shards and hands its own over.
    leaving      BOOLEAN     NOT NULL DEFAULT false
);

-- Who may write each shard, until when. `epoch` grows with every change of owner; appends
-- check (shard, owner, epoch, not expired) in their own transaction, under FOR SHARE, so a
-- takeover waits for in-flight appends and a stale owner cannot write afterwards.
CREATE TABLE shard_leases (
    shard      INT         PRIMARY KEY CHECK (shard >= 0),
    owner      TEXT        NOT NULL CHECK (owner <> ''),
    epoch      BIGINT      NOT NULL CHECK (epoch >= 1),
    expires_at TIMESTAMPTZ NOT NULL
);

-- Settings fixed at cluster creation (e.g. the shard count); first writer wins.
CREATE TABLE cluster_settings (
    key   TEXT PRIMARY KEY CHECK (key <> ''),
    value TEXT NOT NULL
);
