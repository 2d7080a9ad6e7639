package backfill

import (
	"os"
	"testing"

	"github.com/scmon/scmon/internal/testutil"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveScmonBinary()
	os.Exit(code)
}
