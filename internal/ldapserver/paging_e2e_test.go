package ldapserver_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/o365prov/o365prov/internal/ldapserver"
)

const (
	contosoPeople = "ou=people,dc=contoso,dc=com"
	orgUsers      = 5000
)

// pageOnce sends one paged request and returns its entries, the cookie and
// the error.
func pageOnce(c *ldap.Conn, req *ldap.SearchRequest, size uint32, cookie []byte) ([]*ldap.Entry, []byte, error) {
	ctl := ldap.NewControlPaging(size)
	ctl.SetCookie(cookie)
	r := *req
	r.Controls = []ldap.Control{ctl}
	res, err := c.Search(&r)
	if err != nil {
		return nil, nil, err
	}
	pc, _ := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
	if pc == nil {
		return res.Entries, nil, nil
	}
	return res.Entries, pc.Cookie, nil
}

func TestPagingOver5000Entries(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	e := start(t, org(t, orgUsers, 5), ldapserver.Options{})
	c := e.admin(t)
	req := search(contosoPeople, ldap.ScopeSingleLevel, "(objectClass=inetOrgPerson)", "uid")
	all := dns(mustSearch(t, c, req))
	if len(all) != orgUsers {
		t.Fatalf("unpaged search found %d, want %d", len(all), orgUsers)
	}

	t.Run("go-ldap's SearchWithPaging gets every entry once, in the unpaged order", func(t *testing.T) {
		res, err := c.SearchWithPaging(search(contosoPeople, ldap.ScopeSingleLevel, "(objectClass=inetOrgPerson)", "uid"), 500)
		if err != nil {
			t.Fatal(err)
		}
		if got := dns(res.Entries); !slices.Equal(got, all) {
			t.Fatalf("paged result (%d entries) differs from the unpaged one", len(got))
		}
	})

	t.Run("every page but the last is exactly the page size and the last cookie is empty", func(t *testing.T) {
		var cookie []byte
		pages, total := 0, 0
		for {
			entries, next, err := pageOnce(c, req, 300, cookie)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			total += len(entries)
			if len(next) == 0 {
				if len(entries) != orgUsers%300 {
					t.Errorf("last page has %d entries, want %d", len(entries), orgUsers%300)
				}
				break
			}
			if len(entries) != 300 {
				t.Fatalf("page %d has %d entries, want 300", pages, len(entries))
			}
			cookie = next
		}
		if total != orgUsers || pages != (orgUsers+299)/300 {
			t.Errorf("%d entries in %d pages", total, pages)
		}
	})
}

func TestManyConcurrentPagedSearches(t *testing.T) {
	const users = 2000
	e := start(t, org(t, users, 0), ldapserver.Options{})
	shared := e.admin(t)
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	run := func(c *ldap.Conn, size uint32) {
		defer wg.Done()
		res, err := c.SearchWithPaging(search(contosoPeople, ldap.ScopeSingleLevel, "(uid=*)", "uid"), size)
		if err != nil {
			errs <- err.Error()
			return
		}
		seen := make(map[string]bool, users)
		for _, en := range res.Entries {
			seen[en.DN] = true
		}
		if len(seen) != users || len(res.Entries) != users {
			errs <- "a paged search returned a wrong set of entries"
		}
	}
	for i := range 4 {
		wg.Add(2)
		go run(e.admin(t), uint32(100+i*50)) // each on its own connection
		go run(shared, uint32(150+i*10))     // and interleaved on one
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}

func TestPagingCookies(t *testing.T) {
	e := start(t, org(t, 50, 0), ldapserver.Options{})
	c := e.admin(t)
	req := search(contosoPeople, ldap.ScopeSingleLevel, "(objectClass=inetOrgPerson)", "uid")
	_, cookie, err := pageOnce(c, req, 10, nil)
	if err != nil || len(cookie) == 0 {
		t.Fatalf("first page: %v, cookie %q", err, cookie)
	}
	t.Run("a cookie is not valid on another connection", func(t *testing.T) {
		if _, _, err := pageOnce(e.admin(t), req, 10, cookie); code(err) != ldap.LDAPResultUnwillingToPerform {
			t.Errorf("err = %v, want unwillingToPerform", err)
		}
	})
	t.Run("a cookie is not valid for another search", func(t *testing.T) {
		other := search(contosoPeople, ldap.ScopeSingleLevel, "(uid=a*)", "uid")
		if _, _, err := pageOnce(c, other, 10, cookie); code(err) != ldap.LDAPResultUnwillingToPerform {
			t.Errorf("err = %v, want unwillingToPerform", err)
		}
	})
	t.Run("a page size of zero abandons the search and its cookie", func(t *testing.T) {
		_, cookie, err := pageOnce(c, req, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		entries, next, err := pageOnce(c, req, 0, cookie)
		if err != nil || len(entries) != 0 || len(next) != 0 {
			t.Fatalf("abandon: %d entries, cookie %q, %v", len(entries), next, err)
		}
		if _, _, err := pageOnce(c, req, 10, cookie); code(err) != ldap.LDAPResultUnwillingToPerform {
			t.Errorf("reuse after abandon: %v, want unwillingToPerform", err)
		}
	})
	t.Run("a malformed paging control is a protocol error", func(t *testing.T) {
		r := *req
		r.Controls = []ldap.Control{ldap.NewControlString(ldap.ControlTypePaging, true, "not BER")}
		if _, err := c.Search(&r); code(err) != ldap.LDAPResultProtocolError {
			t.Errorf("err = %v, want protocolError", err)
		}
	})
}

func TestChangesBetweenPages(t *testing.T) {
	e := start(t, org(t, 30, 0), ldapserver.Options{})
	c := e.admin(t)
	req := search(contosoPeople, ldap.ScopeSingleLevel, "(objectClass=inetOrgPerson)", "uid", "title")
	all := dns(mustSearch(t, c, req))
	first, cookie, err := pageOnce(c, req, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	deleted, modified := all[15], all[20]
	if err := e.srv.Delete(deleted); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Modify(modified, ldapserver.Replace("title", "Changed between pages")); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Add("uid=late,"+contosoPeople, map[string][]string{"objectClass": {"inetOrgPerson"}, "uid": {"late"}, "cn": {"Late"}, "sn": {"Late"}}); err != nil {
		t.Fatal(err)
	}
	got := first
	for len(cookie) > 0 {
		var page []*ldap.Entry
		page, cookie, err = pageOnce(c, req, 10, cookie)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
	}
	names := dns(got)
	if slices.Contains(names, deleted) {
		t.Errorf("an entry deleted between pages was sent")
	}
	if slices.Contains(names, "uid=late,"+contosoPeople) {
		t.Errorf("an entry added after the search began was sent")
	}
	if len(names) != 29 {
		t.Errorf("%d entries, want 29", len(names))
	}
	for _, en := range got {
		if en.DN == modified && en.GetAttributeValue("title") != "Changed between pages" {
			t.Errorf("a modified entry was sent as it was: %q", en.GetAttributeValue("title"))
		}
	}
}

func TestTooManyOpenPagedSearchesAreRefused(t *testing.T) {
	e := start(t, org(t, 3, 0), ldapserver.Options{})
	c := e.admin(t)
	req := search(contosoPeople, ldap.ScopeSingleLevel, "(objectClass=*)", "1.1")
	for i := range 256 {
		if _, cookie, err := pageOnce(c, req, 1, nil); err != nil || len(cookie) == 0 {
			t.Fatalf("paged search %d: %v", i, err)
		}
	}
	if _, _, err := pageOnce(c, req, 1, nil); code(err) != ldap.LDAPResultAdminLimitExceeded {
		t.Errorf("the 257th open paged search: %v, want adminLimitExceeded", err)
	}
}

// TestReadsAndWritesRunConcurrently mixes paged reads over LDAP with writes
// over LDAP and through the Go methods; under -race it is the check that
// every path takes the store's lock.
func TestReadsAndWritesRunConcurrently(t *testing.T) {
	const users = 500
	e := start(t, org(t, users, 5), ldapserver.Options{})
	all := dns(mustSearch(t, e.admin(t), search(contosoPeople, ldap.ScopeSingleLevel, "(objectClass=inetOrgPerson)", "1.1")))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.admin(t)
			for range 3 {
				res, err := c.SearchWithPaging(search("dc=contoso,dc=com", ldap.ScopeWholeSubtree, "(|(memberOf=*)(title=*))", "*", "+"), uint32(50+r))
				if err != nil {
					errs <- err
					return
				}
				if len(res.Entries) < users/2 {
					errs <- fmt.Errorf("a paged read returned %d entries", len(res.Entries))
				}
			}
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		c := e.admin(t)
		for i, dn := range all[:100] {
			m := ldap.NewModifyRequest(dn, nil)
			m.Replace("title", []string{fmt.Sprint("Title ", i)})
			if err := c.Modify(m); err != nil {
				errs <- err
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i, dn := range all[100:200] {
			var err error
			switch i % 3 {
			case 0:
				err = e.srv.Delete(dn)
			case 1:
				err = e.srv.ModifyDN(dn, fmt.Sprintf("uid=renamed%d", i), true, "")
			default:
				err = e.srv.Modify("cn=Engineering,ou=groups,dc=contoso,dc=com", ldapserver.Replace("member", dn))
			}
			if err != nil {
				errs <- err
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
