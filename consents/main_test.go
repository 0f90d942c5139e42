package consents_test

import (
	"testing"

	"kasa/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }
