package graph

import (
	"net/url"
	"testing"
)

func TestEncodeQuery(t *testing.T) {
	tests := []struct {
		name string
		q    url.Values
		want string
	}{
		{name: "system options keep their dollar and spaces become %20",
			q:    url.Values{"$filter": {"userPrincipalName eq 'a@b.com'"}, "$select": {"id,displayName"}},
			want: "$filter=userPrincipalName%20eq%20%27a%40b.com%27&$select=id%2CdisplayName"},
		{name: "a base64 immutableId keeps its plus and slash",
			q:    url.Values{"$filter": {Eq("onPremisesImmutableId", "ab+c/d==")}},
			want: "$filter=onPremisesImmutableId%20eq%20%27ab%2Bc%2Fd%3D%3D%27"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encodeQuery(tt.q)
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			back, err := url.ParseQuery(got)
			if err != nil || back.Encode() != tt.q.Encode() {
				t.Errorf("does not decode back: %v %v", back, err)
			}
		})
	}
}

func TestEqDoublesQuotes(t *testing.T) {
	if got := Eq("displayName", "O'Brien"); got != "displayName eq 'O''Brien'" {
		t.Error(got)
	}
}

func TestUserPath(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"an id is a plain segment", "87d349ed-44d7-43e1-9a83-5f2406dee5bd", "/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd"},
		{"a B2B UPN has its hash escaped", "a_b.com#EXT#@t.onmicrosoft.com", "/users/a_b.com%23EXT%23@t.onmicrosoft.com"},
		{"a UPN starting with a dollar uses the key form", "$adm@contoso.com", "/users('$adm@contoso.com')"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := userPath(tt.in); got != tt.want {
				t.Errorf("got %s want %s", got, tt.want)
			}
		})
	}
}

func TestTemplateOfHidesIdentifiers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd/manager/$ref", "/users/{id}/manager/$ref"},
		{"/users/alice@contoso.com", "/users/{id}"},
		{"/domains/contoso.com/federationConfiguration", "/domains/{id}/federationConfiguration"},
		{"/directory/deletedItems/microsoft.graph.user", "/directory/deletedItems/microsoft.graph.user"},
		{"/users('$adm@contoso.com')", "/users({id})"},
		{"/subscribedSkus", "/subscribedSkus"},
	}
	for _, tt := range tests {
		t.Run("a path like "+tt.want+" becomes its template", func(t *testing.T) {
			if got := templateOf(tt.in); got != tt.want {
				t.Errorf("templateOf(%s) = %s", tt.in, got)
			}
		})
	}
}

func TestEstimateRUFollowsTheCostTable(t *testing.T) {
	tests := []struct {
		name string
		r    *Request
		want int
	}{
		{"a write costs one", CreateUserRequest(Properties{"displayName": "x"}), 1},
		{"listing users costs two", listRequest("/users", "/users", Query{}), 2},
		{"select takes one off", listRequest("/users", "/users", Query{Select: []string{"id"}}), 1},
		{"a small top takes one off but never below one", listRequest("/users", "/users", Query{Select: []string{"id"}, Top: 2}), 1},
		{"members cost three", listRequest("/groups/g1/members", "", Query{}), 3},
		{"subscribedSkus cost three", NewRequest("GET", "/subscribedSkus", nil), 3},
		{"a next page is priced from its URL", &Request{Method: "GET", rawURL: "https://g/v1.0/users?$skiptoken=x"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := estimateRU(tt.r); got != tt.want {
				t.Errorf("got %d want %d", got, tt.want)
			}
		})
	}
}
