-- AgentDesk schema for PostgreSQL, part 7: many grain-state writes in one statement.
-- The batched provider sends the writes that arrive together in one round trip. Sent as one statement each, PostgreSQL
-- starts and ends an executor, takes a snapshot and runs the write's two halves (update, insert) for every row; these two
-- statements write a whole batch's rows at once, each row still under its own version check. The ADO.NET provider does
-- not use them; the single-row statements of script 001 stay, for it and for the writes this provider sends alone.

-- Every row that carries the version it read: bumped only where the stored version still matches. Each row returned names
-- its write by ordinal; a write with no row returned lost its race (a version conflict).
-- The service id comes as a column like the rest of the key, although every row of a batch has the same one. Given as a
-- constant, a service the table's statistics do not know yet (a new deployment) made PostgreSQL plan a scan of every row
-- of that service matched against the whole batch: 0.55 ms a row instead of 0.1 (measured). As a column, every row is
-- looked up through the unique index, which a new table without statistics plans too.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('AgentDesk.UpdateManyInStorageKey', '
    UPDATE OrleansStorage AS s
    SET PayloadBinary = w.payload, ModifiedOn = now(), Version = s.Version + 1
    FROM unnest(@Ordinals::integer[], @ServiceId::text[], @GrainIdN0::bigint[], @GrainIdN1::bigint[], @GrainTypeString::text[],
                @GrainIdExtensionString::text[], @GrainStateVersion::integer[], @PayloadBinary::bytea[])
         AS w(ordinal, service_id, n0, n1, grain_type, extension, version, payload)
    WHERE s.ServiceId = w.service_id AND s.GrainTypeString = w.grain_type
      AND s.GrainIdN0 = w.n0 AND s.GrainIdN1 = w.n1
      AND COALESCE(s.GrainIdExtensionString, '''') = COALESCE(w.extension, '''')
      AND s.Version = w.version
    RETURNING w.ordinal, s.Version;
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Every first write (no version yet): inserted at version 1 unless the row exists (another activation wrote it first,
-- a version conflict). Each row returned names its write by ordinal.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('AgentDesk.InsertManyIntoStorageKey', '
    WITH written AS (
        INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId, PayloadBinary, Version)
        SELECT w.id_hash, w.n0, w.n1, w.type_hash, w.grain_type, w.extension, @ServiceId, w.payload, 1
        FROM unnest(@GrainIdHash::integer[], @GrainIdN0::bigint[], @GrainIdN1::bigint[], @GrainTypeHash::integer[],
                    @GrainTypeString::text[], @GrainIdExtensionString::text[], @PayloadBinary::bytea[])
             AS w(id_hash, n0, n1, type_hash, grain_type, extension, payload)
        ON CONFLICT DO NOTHING
        RETURNING GrainIdN0, GrainIdN1, GrainTypeString, COALESCE(GrainIdExtensionString, '''') AS extension)
    SELECT w.ordinal
    FROM written
    JOIN unnest(@Ordinals::integer[], @GrainIdN0::bigint[], @GrainIdN1::bigint[], @GrainTypeString::text[], @GrainIdExtensionString::text[])
         AS w(ordinal, n0, n1, grain_type, extension)
      ON written.GrainIdN0 = w.n0 AND written.GrainIdN1 = w.n1 AND written.GrainTypeString = w.grain_type
     AND written.extension = COALESCE(w.extension, '''');
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
