package faketenant

import "net/http"

// buildRouter lists every Graph operation the fake serves with its base RU
// cost (graph.md §6.2 table; unlisted requests cost 1).
func (t *Tenant) buildRouter() *router {
	rt := &router{}
	// Permission sets per operation, from graph.md §9.4 and the per-API notes
	// (§1.1, §1.5, §2, §3, §4, §10). Any one permission of a set grants access.
	// Directory.ReadWrite.All "does not allow user or group deletion" (§1.5).
	var (
		permReadUsers      = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
		permWriteUsers     = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
		permDeleteUsers    = []string{"User.ReadWrite.All"}
		permAssignLicense  = []string{"User.ReadWrite.All", "Directory.ReadWrite.All", "LicenseAssignment.ReadWrite.All"}
		permReadSkus       = []string{"Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
		permReadGroups     = []string{"Group.Read.All", "Group.ReadWrite.All", "GroupMember.Read.All", "GroupMember.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
		permCreateGroups   = []string{"Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All"}
		permUpdateGroups   = []string{"Group.ReadWrite.All", "Directory.ReadWrite.All", "GroupMember.ReadWrite.All"}
		permDeleteGroups   = []string{"Group.ReadWrite.All"}
		permWriteMembers   = []string{"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"}
		permReadDeleted    = []string{"User.Read.All", "User.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
		permWriteDeleted   = []string{"User.ReadWrite.All", "Group.ReadWrite.All"}
		permReadDomains    = []string{"Domain.Read.All", "Domain.ReadWrite.All", "Domain-InternalFederation.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
		permWriteDomains   = []string{"Domain.ReadWrite.All", "Domain-InternalFederation.ReadWrite.All"}
		permReadDirObjects = []string{"Directory.Read.All", "Directory.ReadWrite.All", "User.Read.All", "User.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All"}
		permReadOrg        = []string{"Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "User.Read.All", "User.ReadWrite.All"}
	)
	get, post, patch, del, put := http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodPut

	rt.add(get, "/v1.0/users", permReadUsers, 2, t.listUsers)
	rt.add(post, "/v1.0/users", permWriteUsers, 1, t.createUser)
	rt.add(get, "/v1.0/users/$count", permReadUsers, 1, t.countUsers)
	rt.add(get, "/v1.0/users/delta", permReadUsers, 1, t.usersDelta)
	rt.add(get, "/v1.0/users/microsoft.graph.delta", permReadUsers, 1, t.usersDelta)
	rt.add(get, "/v1.0/users/{id}", permReadUsers, 1, t.getUser)
	rt.add(patch, "/v1.0/users/{id}", permWriteUsers, 1, t.patchUser)
	rt.add(del, "/v1.0/users/{id}", permDeleteUsers, 1, t.deleteUser)
	rt.add(get, "/v1.0/users/{id}/manager", permReadUsers, 1, t.getManager)
	rt.add(get, "/v1.0/users/{id}/manager/$ref", permReadUsers, 1, t.getManagerRef)
	rt.add(put, "/v1.0/users/{id}/manager/$ref", permWriteUsers, 1, t.putManager)
	rt.add(del, "/v1.0/users/{id}/manager/$ref", permWriteUsers, 1, t.deleteManager)
	rt.add(get, "/v1.0/users/{id}/directReports", permReadUsers, 1, t.listDirectReports)
	rt.add(get, "/v1.0/users/{id}/memberOf", permReadUsers, 2, t.listMemberOf)
	rt.add(post, "/v1.0/users/{id}/assignLicense", permAssignLicense, 1, t.assignLicense)
	rt.add(get, "/v1.0/users/{id}/licenseDetails", permReadUsers, 2, t.listLicenseDetails)
	rt.add(get, "/v1.0/subscribedSkus", permReadSkus, 3, t.listSubscribedSkus)
	rt.add(get, "/v1.0/subscribedSkus/{id}", permReadSkus, 1, t.getSubscribedSku)

	rt.add(get, "/v1.0/groups", permReadGroups, 1, t.listGroups)
	rt.add(post, "/v1.0/groups", permCreateGroups, 1, t.createGroup)
	rt.add(get, "/v1.0/groups/$count", permReadGroups, 1, t.countGroups)
	rt.add(get, "/v1.0/groups/delta", permReadGroups, 1, t.groupsDelta)
	rt.add(get, "/v1.0/groups/microsoft.graph.delta", permReadGroups, 1, t.groupsDelta)
	rt.add(get, "/v1.0/groups/{id}", permReadGroups, 1, t.getGroup)
	rt.add(patch, "/v1.0/groups/{id}", permUpdateGroups, 1, t.patchGroup)
	rt.add(del, "/v1.0/groups/{id}", permDeleteGroups, 1, t.deleteGroup)
	rt.add(get, "/v1.0/groups/{id}/members", permReadGroups, 3, t.listMembers)
	rt.add(get, "/v1.0/groups/{id}/members/$count", permReadGroups, 3, t.countMembers)
	rt.add(post, "/v1.0/groups/{id}/members/$ref", permWriteMembers, 1, t.addMemberRef)
	rt.add(del, "/v1.0/groups/{id}/members/{memberId}/$ref", permWriteMembers, 1, t.removeMemberRef)
	rt.add(get, "/v1.0/groups/{id}/owners", permReadGroups, 1, t.listOwners)
	for _, cast := range []string{"microsoft.graph.user", "microsoft.graph.group"} {
		rt.add(get, "/v1.0/groups/{id}/members/"+cast, permReadGroups, 3, t.listMembersCast)
		rt.add(get, "/v1.0/groups/{id}/members/"+cast+"/$count", permReadGroups, 3, t.countMembersCast)
		rt.add(get, "/v1.0/groups/{id}/transitiveMembers/"+cast, permReadGroups, 5, t.listTransitiveMembersCast)
	}
	rt.add(get, "/v1.0/groups/{id}/transitiveMembers", permReadGroups, 5, t.listTransitiveMembers)
	rt.add(get, "/v1.0/users/{id}/memberOf/microsoft.graph.group", permReadUsers, 2, t.listMemberOfCast)

	rt.add(get, "/v1.0/directory/deletedItems", permReadDeleted, 1, t.listDeletedUntyped)
	rt.add(get, "/v1.0/directory/deletedItems/microsoft.graph.user", permReadDeleted, 1, t.listDeletedUsers)
	rt.add(get, "/v1.0/directory/deletedItems/microsoft.graph.group", permReadDeleted, 1, t.listDeletedGroups)
	rt.add(get, "/v1.0/directory/deletedItems/{id}", permReadDeleted, 1, t.getDeletedItem)
	rt.add(del, "/v1.0/directory/deletedItems/{id}", permWriteDeleted, 1, t.purgeDeletedItem)
	rt.add(post, "/v1.0/directory/deletedItems/{id}/restore", permWriteDeleted, 1, t.restoreDeletedItem)
	rt.add(post, "/v1.0/directory/deletedItems/{id}/microsoft.graph.restore", permWriteDeleted, 1, t.restoreDeletedItem)
	rt.add(get, "/v1.0/directoryObjects/{id}", permReadDirObjects, 1, t.getDirectoryObject)

	rt.add(get, "/v1.0/applications", []string{"Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}, 1, t.listApplications)
	rt.add(get, "/v1.0/domains", permReadDomains, 1, t.listDomains)
	rt.add(get, "/v1.0/domains/{id}", permReadDomains, 1, t.getDomain)
	rt.add(patch, "/v1.0/domains/{id}", permWriteDomains, 1, t.patchDomain)
	rt.add(get, "/v1.0/domains/{id}/federationConfiguration", permReadDomains, 1, t.listFederation)
	rt.add(post, "/v1.0/domains/{id}/federationConfiguration", permWriteDomains, 1, t.createFederation)
	rt.add(get, "/v1.0/domains/{id}/federationConfiguration/{fedId}", permReadDomains, 1, t.getFederation)
	rt.add(patch, "/v1.0/domains/{id}/federationConfiguration/{fedId}", permWriteDomains, 1, t.patchFederation)
	rt.add(del, "/v1.0/domains/{id}/federationConfiguration/{fedId}", permWriteDomains, 1, t.deleteFederation)
	rt.add(get, "/v1.0/organization", permReadOrg, 1, t.listOrganization)

	t.addExtensionRoutes(rt)

	rt.add(post, "/v1.0/$batch", nil, 0, t.serveBatch)
	rt.routes[len(rt.routes)-1].metered = false
	rt.routes[len(rt.routes)-1].write = false
	return rt
}
