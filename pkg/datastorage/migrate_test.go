package datastorage_test

import (
	"context"
	"net/url"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/internal/testutil/testpg"
	"github.com/kubernaut/kubernaut/pkg/datastorage"
)

// migrations is the number of embedded migrations (migrations/000NN_*.sql).
const migrations = 3

func TestMigrateFromEmptyDatabaseAndAgain(t *testing.T) {
	ctx := context.Background()
	pool, err := datastorage.OpenPool(ctx, testpg.Start(t), 4)
	require.NoError(t, err)
	defer datastorage.ClosePool(pool)

	v1, err := datastorage.Migrate(ctx, pool)
	require.NoError(t, err)
	assert.Equal(t, int64(migrations), v1)
	assert.ElementsMatch(t, []string{"remediation_audit", "service_crd_status", "goose_db_version"}, tables(t, pool))
	assert.Subset(t, indexes(t, pool), []string{
		"remediation_audit_fingerprint_idx", "remediation_audit_phase_idx", "remediation_audit_start_time_idx",
		"remediation_audit_effectiveness_idx", "remediation_audit_operations_idx",
	})

	v2, err := datastorage.Migrate(ctx, pool)
	require.NoError(t, err, "re-running migrations")
	assert.Equal(t, v1, v2)
	var applied int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&applied))
	assert.Equal(t, migrations, applied, "each migration is recorded once")
}

func TestMigrateFromSeveralReplicasAtOnce(t *testing.T) {
	ctx := context.Background()
	dsn := testpg.Start(t)
	const replicas = 4
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool, err := datastorage.OpenPool(ctx, dsn, 3)
			if err != nil {
				errs[i] = err
				return
			}
			defer datastorage.ClosePool(pool)
			_, errs[i] = datastorage.Migrate(ctx, pool)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "replica %d", i)
	}
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer pool.Close()
	var applied int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&applied))
	assert.Equal(t, migrations, applied)
}

func tables(t *testing.T, pool *pgxpool.Pool) []string {
	return queryStrings(t, pool, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
}

func indexes(t *testing.T, pool *pgxpool.Pool) []string {
	return queryStrings(t, pool, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
}

func queryStrings(t *testing.T, pool *pgxpool.Pool, sql string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), sql)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestOpenPoolFromPGEnvironmentVariables(t *testing.T) {
	u, err := url.Parse(testpg.Start(t))
	require.NoError(t, err)
	t.Setenv("PGHOST", u.Hostname())
	t.Setenv("PGPORT", u.Port())
	t.Setenv("PGUSER", u.User.Username())
	t.Setenv("PGDATABASE", u.Path[1:])
	t.Setenv("PGSSLMODE", "disable")
	pool, err := datastorage.OpenPool(t.Context(), "", 2)
	require.NoError(t, err)
	defer datastorage.ClosePool(pool)
	_, err = datastorage.Migrate(t.Context(), pool)
	require.NoError(t, err)
	var db string
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT current_database()").Scan(&db))
	assert.Equal(t, u.Path[1:], db)
}
