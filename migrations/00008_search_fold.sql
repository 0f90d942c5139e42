-- +goose Up
-- Text search compares letters by Turkish case rules: Çamlıca, ÇAMLICA and
-- çamlıca are one search, İ is the capital of i and I the capital of ı.
-- Codes and bank texts are often typed in ASCII capitals (INV-001,
-- ISTANBUL), so after folding ı is also taken as i: a search finds a word
-- whichever of the four i's it was written with. search_fold is the one
-- definition; every search compares search_fold(columns) with
-- search_fold(what was typed), and a trigram index over the same expression
-- serves the substring match (LIKE '%…%').
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- ICU's Turkish lower-casing where the server has it (Debian's and most
-- builds do); otherwise the Turkish capitals are mapped by hand before the
-- default lower().
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'tr-TR-x-icu') THEN
        CREATE FUNCTION search_fold(s text) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS $f$ SELECT translate(lower(s COLLATE "tr-TR-x-icu"), 'ı', 'i') $f$;
    ELSE
        CREATE FUNCTION search_fold(s text) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS $f$ SELECT lower(translate(s, 'IİıÇĞÖŞÜÂÎÛ', 'iiiçğöşüâîû')) $f$;
    END IF;
END
$$;
-- +goose StatementEnd

-- The searched columns of a table are folded as one text, a line break
-- between columns so that a search never spans two of them. The store's
-- queries (store/search.go) repeat these expressions exactly.
CREATE INDEX hgs_transactions_search ON hgs_transactions
    USING gin (search_fold(entrance_motorway || E'\n' || departure_motorway || E'\n' || explanation) gin_trgm_ops);
CREATE INDEX debts_search ON debts
    USING gin (search_fold(erp_code || E'\n' || document_no || E'\n' || description) gin_trgm_ops);
-- The movements search gets no trigram index: it always names an account
-- and a period, which account_movements_account_booked finds, and a
-- trigram index would slow every sync's bulk insert (a 400-day fetch no
-- longer finished within the page's wait) for no faster search.

-- The debts search used these prefix indexes; debts_search serves it now.
DROP INDEX debts_erp_code_search;
DROP INDEX debts_document_no_search;

-- +goose Down
CREATE INDEX debts_erp_code_search ON debts (lower(erp_code) text_pattern_ops);
CREATE INDEX debts_document_no_search ON debts (lower(document_no) text_pattern_ops);
DROP INDEX debts_search;
DROP INDEX hgs_transactions_search;
DROP FUNCTION search_fold(text);
