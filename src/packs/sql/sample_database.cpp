// The sample database's content: the built-in document pipeline schema and a handful of rows.
#include "packs/sql/sample_database.hpp"

#include "packs/sql/migrations.hpp"

namespace mcpd::packs::sql {

namespace {

constexpr const char* kSampleRows = R"SQL(
INSERT INTO documents (id, s3_key, document_type, file_name, file_size, status, validation_score, metadata,
                       error_message, created_at, updated_at) VALUES
  (1, 'invoices/2026/01/inv-0001.pdf', 'invoice', 'inv-0001.pdf', 48213, 'validated', 0.97,
   '{"supplier": "Acme SARL", "total": 1250.40, "currency": "EUR"}', NULL, '2026-01-02T09:15:00Z', '2026-01-02T09:16:12Z'),
  (2, 'contracts/2025/12/ctr-0042.pdf', 'contract', 'ctr-0042.pdf', 310022, 'archived', 0.92,
   '{"parties": ["CA", "Globex"], "pages": 14}', NULL, '2025-12-18T14:02:11Z', '2025-12-18T14:05:40Z'),
  (3, 'invoices/2026/01/inv-0002.pdf', 'invoice', 'inv-0002.pdf', 51877, 'processing', NULL,
   '{"supplier": "Initech"}', NULL, '2026-01-02T10:41:27Z', '2026-01-02T10:41:30Z'),
  (4, 'receipts/2026/01/rcp-0007.jpg', 'receipt', 'rcp-0007.jpg', 902311, 'failed', 0.31, NULL,
   'OCR confidence below threshold', '2026-01-02T11:03:54Z', '2026-01-02T11:04:20Z'),
  (5, 'reports/2025/q4-summary.docx', 'report', 'q4-summary.docx', 122880, 'pending', NULL, NULL, NULL,
   '2026-01-02T11:30:00Z', '2026-01-02T11:30:00Z');
INSERT INTO processing_logs (document_id, agent_name, action, status, details, created_at) VALUES
  (1, 'orchestrator', 'received', 'success', NULL, '2026-01-02T09:15:01Z'),
  (1, 'extractor', 'extract', 'success', '{"pages": 2}', '2026-01-02T09:15:40Z'),
  (1, 'validator', 'validate', 'success', '{"score": 0.97}', '2026-01-02T09:16:02Z'),
  (1, 'archivist', 'archive', 'success', NULL, '2026-01-02T09:16:12Z'),
  (2, 'archivist', 'archive', 'success', NULL, '2025-12-18T14:05:40Z'),
  (3, 'extractor', 'extract', 'running', NULL, '2026-01-02T10:41:30Z'),
  (4, 'extractor', 'extract', 'failed', '{"error": "OCR confidence below threshold"}', '2026-01-02T11:04:20Z'),
  (5, 'orchestrator', 'received', 'success', NULL, '2026-01-02T11:30:00Z');
)SQL";

}  // namespace

bool create_sample_database(infra::SqliteDatabase& db) {
  {
    auto version = db.prepare("PRAGMA user_version");
    if (version.step() && version.int64(0) != 0) return false;
    auto tables = db.prepare("SELECT count(*) FROM sqlite_schema");
    if (tables.step() && tables.int64(0) != 0) return false;
  }
  infra::SqliteTransaction tx(db);
  db.exec(builtin_document_schema(Dialect::sqlite).sql);
  db.exec(kSampleRows);
  db.exec("PRAGMA user_version = 1");
  tx.commit();
  return true;
}

}  // namespace mcpd::packs::sql
