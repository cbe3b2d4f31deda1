package ldapserver

// rootDSE builds the server's root DSE (RFC 4512 §5.1), which clients read
// to learn the naming context and whether paging is supported.
func (s *Server) rootDSE() *entry {
	e := &entry{attrs: newAttrSet(8)}
	e.attrs.set("objectClass", "top")
	e.attrs.set("namingContexts", s.store.suffix.String())
	e.attrs.set("supportedLDAPVersion", "3")
	e.attrs.set("supportedControl", oidPaging, oidManageDsaIT)
	ext := []string{oidWhoAmI}
	if s.opts.TLSConfig != nil {
		ext = append(ext, oidStartTLS)
	}
	e.attrs.set("supportedExtension", ext...)
	e.attrs.set("supportedFeatures",
		"1.3.6.1.4.1.4203.1.5.1", // all operational attributes: "+"
		"1.3.6.1.4.1.4203.1.5.3", // absolute true and false filters: (&) and (|)
	)
	// Active Directory's root DSE tells the server's time; clients use it
	// for timestamp watermarks, and tests that inject a clock see it here.
	e.attrs.set("currentTime", generalizedTime(s.opts.Clock()))
	e.attrs.set("vendorName", "o365prov")
	e.attrs.set("vendorVersion", "o365prov embedded directory")
	return e
}

// searchRootDSE answers a base search of the empty DN, which is allowed
// before a bind. As on OpenLDAP, its attributes other than objectClass are
// operational: returned when asked for by name or with "+".
func (c *conn) searchRootDSE(req *request, sr *searchRequest) {
	e := c.srv.rootDSE()
	v := view{s: c.srv.store}
	// The filter may name computed attributes, which read the store.
	c.srv.store.mu.RLock()
	matched := v.match(sr.filter, e) == isTrue
	c.srv.store.mu.RUnlock()
	if matched {
		sel := sr.newSelection()
		var attrs []partial
		e.attrs.each(func(a *attribute) {
			if sel.oper || sel.names[a.typ.key] || sel.user && a.typ.key == "objectclass" {
				attrs = append(attrs, partial{a.name, a.vals})
			}
		})
		if err := c.send(entryMessage(req.id, "", attrs, sel.typesOnly), false); err != nil {
			return
		}
	}
	c.reply(req, Success, "", "")
}
