package engine

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/o365prov/o365prov/internal/config"
)

func TestFieldDiffWritesOnlyWhatChanged(t *testing.T) {
	mapped := map[string]string{"jobTitle": "string", "department": "string", "businessPhones": "list", "displayName": "string", "onPremisesImmutableId": "string"}
	applied := map[string]string{
		"jobTitle":              `"Engineer"`,
		"department":            `"R&D"`,
		"businessPhones":        `["+1 555 0100"]`,
		"displayName":           `"Ada"`,
		"onPremisesImmutableId": `"4AQlP4lP0xGaDAMF6CwzAQ=="`,
		"officeLocation":        `"HQ"`, // no longer mapped
		"_licenses":             `[]`,
	}
	tests := []struct {
		name       string
		desired    map[string]any
		createOnly map[string]bool
		write      map[string]any
		record     map[string]string
	}{
		{
			name:    "an unchanged object writes nothing",
			desired: map[string]any{"jobTitle": "Engineer", "department": "R&D", "businessPhones": []string{"+1 555 0100"}, "displayName": "Ada"},
			write:   map[string]any{}, record: map[string]string{"officeLocation": ""},
		},
		{
			name:    "a changed field is the only one written",
			desired: map[string]any{"jobTitle": "Architect", "department": "R&D", "businessPhones": []string{"+1 555 0100"}, "displayName": "Ada"},
			write:   map[string]any{"jobTitle": "Architect"}, record: map[string]string{"jobTitle": `"Architect"`, "officeLocation": ""},
		},
		{
			name:    "a mapped field that became empty is cleared, a list with an empty list",
			desired: map[string]any{"displayName": "Ada"},
			write:   map[string]any{"jobTitle": nil, "department": nil, "businessPhones": []string{}},
			record:  map[string]string{"jobTitle": "", "department": "", "businessPhones": "", "officeLocation": ""},
		},
		{
			name:    "businessPhones keeps one number, as Graph allows",
			desired: map[string]any{"jobTitle": "Engineer", "department": "R&D", "businessPhones": []string{"+1 555 0100", "+1 555 0199"}, "displayName": "Ada"},
			write:   map[string]any{}, record: map[string]string{"officeLocation": ""},
		},
		{
			name:       "create-only fields are never updated",
			desired:    map[string]any{"jobTitle": "Engineer", "department": "R&D", "businessPhones": []string{"+1 555 0100"}, "displayName": "Ada", "onPremisesImmutableId": "other"},
			createOnly: map[string]bool{"onPremisesImmutableId": true},
			write:      map[string]any{}, record: map[string]string{"officeLocation": ""},
		},
		{
			name:    "provisioner fields are not Graph properties",
			desired: map[string]any{"jobTitle": "Engineer", "department": "R&D", "businessPhones": []string{"+1 555 0100"}, "displayName": "Ada", "skuId": []string{"E3"}, "manager": "cn=boss", "accountEnabled": false},
			write:   map[string]any{}, record: map[string]string{"officeLocation": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write, record := fieldDiff(tt.desired, tt.createOnly, applied, mapped)
			if !reflect.DeepEqual(write, tt.write) {
				t.Errorf("write = %#v, want %#v", write, tt.write)
			}
			if !reflect.DeepEqual(record, tt.record) {
				t.Errorf("record = %#v, want %#v", record, tt.record)
			}
		})
	}
	t.Run("an unclearable field left empty is kept as it is", func(t *testing.T) {
		write, _ := fieldDiff(map[string]any{}, nil, map[string]string{"displayName": `"Ada"`}, map[string]string{"displayName": "string"})
		if len(write) != 0 {
			t.Errorf("write = %v", write)
		}
	})
}

func TestLicenceDiffIsOneCallOfAddsAndRemoves(t *testing.T) {
	e3 := Assignment{SkuID: "e3", DisabledPlans: []string{}}
	e3NoSway := Assignment{SkuID: "e3", DisabledPlans: []string{"sway"}}
	e5 := Assignment{SkuID: "e5", DisabledPlans: []string{}}
	tests := []struct {
		name             string
		desired, applied []Assignment
		add              []Assignment
		remove           []string
	}{
		{"nothing changes when nothing changed", []Assignment{e3}, []Assignment{e3}, nil, nil},
		{"a new licence is added", []Assignment{e3, e5}, []Assignment{e3}, []Assignment{e5}, nil},
		{"a changed disabled plan re-adds the licence", []Assignment{e3NoSway}, []Assignment{e3}, []Assignment{e3NoSway}, nil},
		{"a swap adds and removes in one call", []Assignment{e5}, []Assignment{e3}, []Assignment{e5}, []string{"e3"}},
		{"an empty desired set removes everything applied", nil, []Assignment{e3, e5}, nil, []string{"e3", "e5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			add, remove := licenceDiff(tt.desired, tt.applied)
			if !reflect.DeepEqual(add, tt.add) || !reflect.DeepEqual(remove, tt.remove) {
				t.Errorf("add %v remove %v; want %v %v", add, remove, tt.add, tt.remove)
			}
		})
	}
}

func TestGuardHoldsMassDeprovisioning(t *testing.T) {
	plan := func(n, population int) *Plan {
		p := &Plan{Population: population}
		for i := 0; i < n; i++ {
			p.Ops = append(p.Ops, Op{Type: OpDisableUser})
		}
		p.Ops = append(p.Ops, Op{Type: OpCreateUser}, Op{Type: OpUpdateUser})
		return p
	}
	def := config.DeleteThreshold{Count: 500, Percent: 10}
	tests := []struct {
		name string
		p    *Plan
		t    config.DeleteThreshold
		held bool
		says string
	}{
		{"a plan with no removals passes", plan(0, 10), def, false, ""},
		{"removals within both limits pass", plan(50, 1000), def, false, ""},
		{"exactly the percentage passes", plan(100, 1000), def, false, ""},
		{"more than the percentage is held", plan(101, 1000), def, true, "101 of 1000 users (10.1%)"},
		{"more than the count is held", plan(501, 100000), def, true, "501 objects, more than the threshold of 500"},
		{"a zero count turns the count off", plan(501, 100000), config.DeleteThreshold{Percent: 10}, false, ""},
		{"both zero never hold", plan(5000, 5000), config.DeleteThreshold{}, false, ""},
		{"a small channel may lose a few without approval", plan(5, 8), def, false, ""},
		{"beyond the floor the percentage holds a small channel", plan(6, 8), def, true, "6 of 8 users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := guard(tt.p, tt.t)
			if (got != "") != tt.held || !strings.Contains(got, tt.says) {
				t.Errorf("guard = %q, want held=%v containing %q", got, tt.held, tt.says)
			}
		})
	}
}

func TestFinalizeOrdersAndKeepsDependencies(t *testing.T) {
	p := &Plan{Ops: []Op{
		{ID: 1, Type: OpDisableUser, Name: "leaver"},
		{ID: 2, Type: OpCreateUser, GUID: "emp", Name: "employee"},
		{ID: 3, Type: OpSetManager, GUID: "emp", Name: "employee", Target: "boss", DependsOn: []int{2, 4}},
		{ID: 4, Type: OpCreateUser, GUID: "boss", Name: "zz-boss"},
		{ID: 5, Type: OpAssignLicense, GUID: "emp", Name: "employee", DependsOn: []int{2}},
	}}
	finalize(p, managerDepth(map[string]string{"emp": "boss"}))
	var order []string
	for _, op := range p.Ops {
		order = append(order, string(op.Type)+":"+op.Name)
	}
	want := []string{"createUser:zz-boss", "createUser:employee", "assignLicense:employee", "setManager:employee", "disableUser:leaver"}
	if !reflect.DeepEqual(order, want) {
		t.Fatalf("order = %v\nwant %v", order, want)
	}
	t.Run("dependencies follow the renumbering", func(t *testing.T) {
		if got := p.Ops[3].DependsOn; !reflect.DeepEqual(got, []int{1, 2}) {
			t.Errorf("setManager depends on %v, want [1 2] (both creates)", got)
		}
		if got := p.Ops[2].DependsOn; !reflect.DeepEqual(got, []int{2}) {
			t.Errorf("assignLicense depends on %v, want [2]", got)
		}
	})
}

func TestRandomPasswordsMeetEntraComplexity(t *testing.T) {
	pw, err := randomPassword(bytes.NewReader(bytes.Repeat([]byte{7, 200, 13, 99}, 10)))
	if err != nil {
		t.Fatal(err)
	}
	if len(pw) != 20 || strings.ToLower(pw) == pw || strings.ToUpper(pw) == pw || !strings.ContainsAny(pw, "0123456789") || !strings.ContainsAny(pw, "!#%+-=?@^_") {
		t.Errorf("password %q lacks a character class", pw)
	}
}

func TestNormDNComparesAsLDAPDoes(t *testing.T) {
	if normDN("CN=Ada Lovelace, OU=Staff ,DC=Contoso,DC=com") != normDN("cn=ada lovelace,ou=staff,dc=contoso,dc=com") {
		t.Error("DNs differing in case and spaces around separators should compare equal")
	}
}

func TestPlanTableShowsReasonsAndHold(t *testing.T) {
	p := &Plan{ID: "abc", Channel: "staff", Mode: "full", Held: "would disable 600 objects", Ops: []Op{
		{ID: 1, Type: OpUpdateUser, Name: "ada@contoso.com", Fields: map[string]any{"jobTitle": "CTO"}, Reason: "changed in the directory: jobTitle"},
		{ID: 2, Type: OpAssignLicense, Name: "ada@contoso.com", Licenses: &LicenseChange{Add: []Assignment{{SkuID: "x", DisabledPlans: []string{"y"}}}, Names: map[string]string{"x": "ENTERPRISEPACK", "y": "SWAY"}}},
	}}
	var b bytes.Buffer
	if err := p.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"HELD: would disable 600 objects", "jobTitle", "+ENTERPRISEPACK (without SWAY)", "changed in the directory: jobTitle", "2 writes"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func TestAPlanWhoseOperationsWaitForEachOtherIsRefused(t *testing.T) {
	p := &Plan{ID: "p", Ops: []Op{{ID: 1, DependsOn: []int{2}}, {ID: 2, DependsOn: []int{1}}, {ID: 3}}}
	if _, err := newSchedule(p); err == nil || !strings.Contains(err.Error(), "[1 2] wait for each other") {
		t.Fatalf("err = %v", err)
	}
}
