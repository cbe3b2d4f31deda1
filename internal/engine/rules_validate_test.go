package engine

import (
	"strings"
	"testing"
)

func TestValuesGraphWouldRefuseAreNeverSent(t *testing.T) {
	tests := []struct {
		name  string
		attrs []string // of the invalid user
		want  string   // in the problem
	}{
		{name: "an empty userPrincipalName", attrs: []string{"mail", ""}, want: "userPrincipalName is not mapped or empty"},
		{name: "a userPrincipalName in a domain the tenant has not verified", attrs: []string{"mail", "bad@elsewhere.org"}, want: "not a verified domain of the tenant"},
		{name: "a userPrincipalName with a space", attrs: []string{"mail", "bad user@example.com"}, want: "may hold only letters"},
		{name: "a displayName over 256 characters", attrs: []string{"displayName", strings.Repeat("x", 257)}, want: "displayName is 257 characters long: Graph allows at most 256"},
		{name: "bytes that are not UTF-8", attrs: []string{"title", "Eng\xffineer"}, want: "jobTitle holds bytes that are not UTF-8"},
		{name: "a NUL byte", attrs: []string{"title", "Eng\x00ineer"}, want: "jobTitle holds a NUL character"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is reported invalid and the rest continue", func(t *testing.T) {
			r := newRig(t, "")
			r.src.user("good", true)
			bad := r.src.user("bad", true, tt.attrs...)
			res := r.sync(Full)
			if len(res.Plan.Problems) != 1 || res.Plan.Problems[0].GUID != bad.GUID || !strings.Contains(res.Plan.Problems[0].Reason, tt.want) {
				t.Fatalf("problems %+v, want one for bad saying %q", res.Plan.Problems, tt.want)
			}
			for _, op := range res.Plan.Ops {
				if op.GUID == bad.GUID {
					t.Errorf("an operation was planned for the invalid user: %+v", op)
				}
			}
			if got := r.tgt.counts(); got.Users != 1 {
				t.Errorf("the tenant holds %+v, want only the valid user", got)
			}
		})
	}
	groups := []struct {
		name string
		cn   string
		want string
	}{
		{name: "a group mailNickname with a space", cn: "Sales Team", want: "mailNickname"},
		{name: "a group mailNickname with non-ASCII letters", cn: "Ventes-Été", want: "not printable ASCII"},
	}
	for _, tt := range groups {
		t.Run(tt.name+" is reported invalid and the rest continue", func(t *testing.T) {
			r := newRig(t, "{}")
			r.config = strings.Replace(r.config, "    mapping:\n", "    mapping:\n      group:\n        mailNickname: '${cn}'\n", 1)
			r.open()
			r.src.user("ann", true)
			r.src.group("Fine", "ann")
			bad := r.src.group(tt.cn, "ann")
			res := r.sync(Full)
			if len(res.Plan.Problems) != 1 || res.Plan.Problems[0].GUID != bad.GUID || !strings.Contains(res.Plan.Problems[0].Reason, tt.want) {
				t.Fatalf("problems %+v, want one for %s saying %q", res.Plan.Problems, tt.cn, tt.want)
			}
			if got := r.tgt.counts(); got.Groups != 1 {
				t.Errorf("the tenant holds %+v, want only the valid group", got)
			}
		})
	}
}
