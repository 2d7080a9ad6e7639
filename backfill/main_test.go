package backfill

import (
	"os"
	"testing"

	"github.com/scmon/scmon/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }
