//! The schema, versioned: `migrations/V<n>__<name>.sql`, embedded by refinery and applied at
//! start-up. Replicas starting together take a session advisory lock first, so exactly one
//! applies each version (refinery itself does not lock).

use tokio_postgres::Client;

refinery::embed_migrations!("migrations");

/// An arbitrary, fixed advisory lock id ("clawgate" in ASCII, folded to i64).
const MIGRATION_LOCK: i64 = 0x636c_6177_6761_7465;

/// Applies every migration not yet applied; returns how many ran.
pub(crate) async fn run(client: &mut Client) -> Result<usize, String> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(|e| e.to_string())?;
    let report = migrations::runner()
        .run_async(client)
        .await
        .map_err(|e| e.to_string());
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(|e| e.to_string());
    let report = report?;
    unlocked?;
    Ok(report.applied_migrations().len())
}
