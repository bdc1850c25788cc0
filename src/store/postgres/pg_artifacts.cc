// The PostgreSQL artifact store: blobs in 1 MiB bytea chunks, verified by SHA-256 on every
// read like the file-system store.
#include <algorithm>

#include "store/postgres/pg_store.h"

namespace almanac::store::pg {
namespace {

constexpr size_t kChunkBytes = 1 << 20;

class PgArtifactStore : public ArtifactStore {
 public:
  PgArtifactStore(std::string uri, std::shared_ptr<Pool> pool) : uri_(std::move(uri)), pool_(std::move(pool)) {}

  Result<ArtifactRecord> Put(std::string_view name, std::string_view bytes) override {
    ALMANAC_RETURN_IF_ERROR(ValidateArtifactName(name));
    const std::string sha = Sha256Hex(bytes);
    ArtifactRecord rec{std::string(name), sha, static_cast<int64_t>(bytes.size()), ""};
    ALMANAC_RETURN_IF_ERROR(RunTransaction(*pool_, "BEGIN", [&](Conn& c) -> Status {
      // Concurrent writers of one name: the second waits for the first's row, then compares.
      ALMANAC_ASSIGN_OR_RETURN(PgResult ins, c.Query("INSERT INTO artifacts VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                                                     Params().Add(name).Add(sha).Add(rec.size)
                                                         .Add(static_cast<int64_t>((bytes.size() + kChunkBytes - 1) / kChunkBytes))
                                                         .Add(SystemClock().NowMicros())));
      if (ins.Affected() == 0) {
        ALMANAC_ASSIGN_OR_RETURN(PgResult old, c.Query("SELECT sha256 FROM artifacts WHERE name = $1", Params().Add(name)));
        if (old.rows() == 1 && old.Text(0, 0) == sha) return Status::Ok();  // idempotent
        return AlreadyExistsError("artifact " + std::string(name) + " already exists with other content "
                                  "(artifacts are immutable)");
      }
      for (size_t off = 0, seq = 0; off < bytes.size(); off += kChunkBytes, ++seq) {
        ALMANAC_RETURN_IF_ERROR(c.Query("INSERT INTO artifact_chunks VALUES ($1, $2, $3)",
                                        Params().Add(name).Add(static_cast<int64_t>(seq))
                                            .AddBytes(bytes.substr(off, std::min(kChunkBytes, bytes.size() - off))))
                                    .status());
      }
      return Status::Ok();
    }));
    return rec;
  }

  Result<std::string> Get(std::string_view name, std::string_view expected_sha256) override {
    ALMANAC_RETURN_IF_ERROR(ValidateArtifactName(name));
    ALMANAC_ASSIGN_OR_RETURN(Pool::Lease lease, pool_->Acquire());
    ALMANAC_ASSIGN_OR_RETURN(PgResult meta, lease->Query("SELECT size, chunks FROM artifacts WHERE name = $1", Params().Add(name)));
    if (meta.rows() == 0) return NotFoundError("no artifact " + std::string(name) + " in " + uri_);
    ALMANAC_ASSIGN_OR_RETURN(PgResult chunks, lease->Query("SELECT seq, data FROM artifact_chunks WHERE name = $1 ORDER BY seq",
                                                           Params().Add(name)));
    std::string out;
    out.reserve(static_cast<size_t>(meta.Int(0, 0)));
    for (int i = 0; i < chunks.rows(); ++i) {
      if (chunks.Int(i, 0) != i) break;  // a missing chunk: caught by the hash below
      out += chunks.Bytes(i, 1);
    }
    if (Sha256Hex(out) != expected_sha256)
      return DataLossError("artifact " + std::string(name) + " in " + uri_ +
                           " does not match its recorded SHA-256 (altered or truncated in the database)");
    return out;
  }

  Result<bool> Exists(std::string_view name) override {
    ALMANAC_RETURN_IF_ERROR(ValidateArtifactName(name));
    ALMANAC_ASSIGN_OR_RETURN(Pool::Lease lease, pool_->Acquire());
    ALMANAC_ASSIGN_OR_RETURN(PgResult r, lease->Query("SELECT 1 FROM artifacts WHERE name = $1", Params().Add(name)));
    return r.rows() > 0;
  }

  std::string Describe() const override { return uri_; }

 private:
  std::string uri_;
  std::shared_ptr<Pool> pool_;
};

}  // namespace

Result<std::unique_ptr<ArtifactStore>> OpenPostgresArtifactStore(const std::string& uri) {
  auto pool = std::make_shared<Pool>(uri, ConnectOptions{}, 4);
  {
    ALMANAC_ASSIGN_OR_RETURN(Pool::Lease lease, pool->Acquire());
    ALMANAC_RETURN_IF_ERROR(Migrate(*lease, /*create_if_missing=*/false));
  }
  return std::unique_ptr<ArtifactStore>(std::make_unique<PgArtifactStore>(RedactConnInfo(uri), std::move(pool)));
}

}  // namespace almanac::store::pg
