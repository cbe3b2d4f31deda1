package directory

import (
	"flag"
	"os"
	"regexp"
	"testing"

	"github.com/o365prov/o365prov/internal/directory/sambatest"
)

func TestMain(m *testing.M) {
	flag.Parse()
	// Provision Samba in the background while the other tests run, unless
	// -run leaves its tests out.
	if pat := flag.Lookup("test.run").Value.String(); pat == "" || matches(pat, "TestSamba") {
		sambatest.Begin()
	}
	code := m.Run()
	sambatest.Stop()
	os.Exit(code)
}

func matches(pat, name string) bool {
	re, err := regexp.Compile(pat)
	return err != nil || re.MatchString(name)
}
