package graph

import (
	"context"
	"encoding/json"
	"testing"
)

func TestEncodeBatchWritesDependsOnAndContentType(t *testing.T) {
	ctx := context.Background()
	patch := newCall(ctx, PatchUserRequest("u1", Properties{"usageLocation": "GB"}))
	assign := newCall(ctx, AssignLicenseRequest("u1", []AssignedLicense{{SkuID: "s"}}, nil))
	assign.dep = patch
	get := newCall(ctx, listRequest("/users", "/users", Query{Filter: "a eq 'b'", Advanced: true}))
	body, err := encodeBatch([]*call{patch, assign, get})
	if err != nil {
		t.Fatal(err)
	}
	var br batchRequest
	if err := json.Unmarshal(body, &br); err != nil {
		t.Fatal(err)
	}
	r := br.Requests
	if r[0].ID != "1" || r[0].URL != "/users/u1" || r[0].Headers["Content-Type"] != "application/json" {
		t.Errorf("first request %+v", r[0])
	}
	if len(r[1].DependsOn) != 1 || r[1].DependsOn[0] != "1" {
		t.Errorf("assignLicense does not depend on the PATCH: %+v", r[1])
	}
	if r[2].Headers["Consistencylevel"] != "eventual" || r[2].Body != nil {
		t.Errorf("an advanced read lost its header or grew a body: %+v", r[2])
	}
	if string(r[1].Body) != `{"addLicenses":[{"skuId":"s","disabledPlans":[]}],"removeLicenses":[]}` {
		t.Errorf("assignLicense body %s", r[1].Body)
	}
}

func TestEncodeBatchRefusesADependencyOutsideTheBatch(t *testing.T) {
	ctx := context.Background()
	a := newCall(ctx, PatchUserRequest("u1", Properties{"a": 1}))
	b := newCall(ctx, PatchUserRequest("u1", Properties{"b": 1}))
	b.dep = a
	if _, err := encodeBatch([]*call{b}); err == nil {
		t.Error("no error")
	}
}

func TestDecodeBatchMatchesAnswersById(t *testing.T) {
	ctx := context.Background()
	calls := []*call{newCall(ctx, NewRequest("GET", "/a", nil)), newCall(ctx, NewRequest("GET", "/b", nil)), newCall(ctx, NewRequest("GET", "/c", nil))}
	tests := []struct {
		name    string
		body    string
		wantErr bool
		missing int
	}{
		{name: "answers in any order land on their requests", body: `{"responses":[{"id":"3","status":204,"body":null},{"id":"1","status":200,"body":{"v":1}},{"id":"2","status":404,"body":{}}]}`, missing: -1},
		{name: "a request without an answer maps to nil", body: `{"responses":[{"id":"3","status":204},{"id":"1","status":200}]}`, missing: 1},
		{name: "an id that was never sent is an error", body: `{"responses":[{"id":"9","status":200}]}`, wantErr: true},
		{name: "a duplicate id is an error", body: `{"responses":[{"id":"1","status":200},{"id":"1","status":200}]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeBatch([]byte(tt.body), calls)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if err != nil {
				return
			}
			for i, a := range got {
				if i == tt.missing {
					if a != nil {
						t.Errorf("answer %d should be missing", i)
					}
					continue
				}
				if a == nil || a.ID != string(rune('1'+i)) {
					t.Errorf("answer %d is %+v", i, a)
				}
			}
			if got[2].body() != nil {
				t.Errorf("a 204's null body decoded as %s", got[2].body())
			}
		})
	}
}
