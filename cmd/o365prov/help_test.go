package main

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's command table and --help name only commands that exist: an
// administrator who types one must not meet "unknown command".
func TestDocsAndHelpNameOnlyCommandsThatExist(t *testing.T) {
	exists := map[string]bool{}
	for _, c := range newRootCmd(io.Discard, io.Discard).Commands() {
		exists[c.Name()] = true
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, help, _ := runCLI(t, "--help")
	named := regexp.MustCompile("`o365prov ([a-z-]+)")
	for name, text := range map[string]string{"README.md": string(readme), "--help": help} {
		t.Run(name+" names existing commands only", func(t *testing.T) {
			for _, m := range named.FindAllStringSubmatch(text, -1) {
				if !exists[m[1]] {
					t.Errorf("%s names `o365prov %s`, which does not exist", name, m[1])
				}
			}
			if !exists["federate"] && strings.Contains(strings.ToLower(text), "o365prov federate") {
				t.Errorf("%s advertises o365prov federate", name)
			}
		})
	}
	if !exists["federate"] && strings.Contains(help, "federate") {
		t.Errorf("--help speaks of federating sign-in, which this release does not do:\n%s", help)
	}
}
