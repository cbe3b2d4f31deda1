package config

// configTemplateText is the file `o365prov init` writes. Defaults come from
// DefaultChannel and defaultTarget, so the template cannot drift from them.
const configTemplateText = `# o365prov configuration, written by ` + "`o365prov init --type {{.Type}}`" + `.
#
# Every option is shown with its default and a line on what it does; delete
# what you do not change. Secrets are never written here: a value of the form
# ${env:NAME} is read from the environment and ${file:PATH} from a file.
# Before the first run:
#   export O365PROV_CLIENT_SECRET=...   # the app registration's client secret
#   export O365PROV_LDAP_PASSWORD=...   # the directory bind password
#   o365prov check --config THIS_FILE   # every problem, with its line
#   o365prov plan --config THIS_FILE    # what a sync would do, applying nothing
# The full reference is docs/configuration.md.

state:
  # sqlite keeps state in one file; postgres lets several nodes share it,
  # one node running each channel at a time (clustered mode).
  driver: sqlite
  # sqlite: a file path. postgres: a connection string, e.g.
  # ${env:O365PROV_STATE_DSN} holding postgres://o365prov:...@db/o365prov.
  dsn: {{quote "o365prov.db"}}

target:
  # The tenant: its initial domain (contoso.onmicrosoft.com) or its GUID.
  tenant: contoso.onmicrosoft.com
  # The app registration's Application (client) ID (Entra admin center >
  # App registrations). Its permissions are listed in README.md. Replace
  # this placeholder: ` + "`o365prov check`" + ` reports it until you do.
  clientId: {{.Target.ClientID}}
  # The app's client secret; or, instead, clientCertificate and clientKey.
  clientSecret: ${env:O365PROV_CLIENT_SECRET}
  # PEM files of a certificate registered on the app and its private key.
  # clientCertificate: /etc/o365prov/app.crt
  # clientKey: /etc/o365prov/app.key
  # Microsoft Graph and the sign-in endpoint; change only for a national
  # cloud or the fake tenant.
  graphURL: {{.Target.GraphURL}}
  loginURL: {{.Target.LoginURL}}
  # Writes per second this app may make in this tenant. Graph allows 3,000
  # per 150 s (20/s); o365prov paces itself to stay under it.
  writeRate: {{.Target.WriteRate}}
  # Read budget in resource units per 10 s: 3500 (tenants under 50 users),
  # 5000 (50 to 500) or 8000 (over 500).
  resourceUnits: {{.Target.ResourceUnits}}
  # An HTTP(S) proxy for Graph and sign-in, e.g. http://proxy.contoso.com:3128.
  proxy: ""
  # An extra CA certificate (PEM) to trust for graphURL and loginURL.
  caFile: ""

channels:
  # A channel provisions one directory to the tenant.
  - name: {{.Channel.Name}}
    # An inactive channel is checked but never run.
    active: {{.Channel.Active}}
    # How often changes are looked for (push, when the directory offers it,
    # brings them sooner).
    interval: {{duration .Channel.Interval}}
    # How often the scope is reconciled: enumerated by GUID to catch
    # deletions and scope changes, every group read again
    # (0: only on ` + "`o365prov sync --full`" + `).
    fullSyncInterval: {{duration .Channel.FullSyncInterval}}
    # Requests to Graph in flight at once.
    maxThreads: {{.Channel.MaxThreads}}
    # Time allowed for one operation on Graph before it is retried later.
    timeout: {{duration .Channel.Timeout}}
    source:
      # activeDirectory, openldap, pingdirectory or generic: sets the
      # defaults below.
      type: {{.Channel.Source.Type}}
      # ldap://host[:389] or ldaps://host[:636]; for Active Directory name one
      # domain controller (update sequence numbers are per controller).
      url: {{.Example.URL}}
      # Upgrade an ldap:// connection with StartTLS.
      startTLS: {{.Channel.Source.StartTLS}}
      # A CA certificate (PEM) to trust for the directory's certificate.
      caFile: ""
      # Skip checking the directory's certificate (never in production).
      insecureSkipVerify: false
      # The account o365prov binds as; it needs read access only.
      bindDN: {{quote .Example.BindDN}}
      password: ${env:O365PROV_LDAP_PASSWORD}
      # Users and groups are searched at and below this entry.
      baseDN: {{quote .Example.BaseDN}}
      # Which users are provisioned: the members of groupDN, the entries
      # matching filter, or the members of groupDN that match filter.
      users:
        groupDN: ""
        # Include members of groups inside groupDN.
        nestedSearch: false
        filter: {{quote .Channel.Source.Users.Filter}}
      # Which groups are provisioned, with their members. Without this
      # section no group is provisioned.
      # groups:
      #   groupDN: {{quote .Example.GroupDN}}
      #   nestedSearch: false
      #   filter: {{quote (printf "(objectClass=%s)" .Channel.Source.GroupObjectClass)}}
      # The attribute that identifies an entry for life, and whether it is
      # binary (Active Directory's objectGUID is).
      guidAttribute: {{.Channel.Source.GUIDAttribute}}
      guidBinary: {{.Channel.Source.GUIDBinary}}
      userObjectClass: {{.Channel.Source.UserObjectClass}}
      groupObjectClass: {{.Channel.Source.GroupObjectClass}}
      # The group attribute listing members, and the user attribute listing
      # groups.
      memberAttribute: {{.Channel.Source.MemberAttribute}}
      memberOfAttribute: {{.Channel.Source.MemberOfAttribute}}
      changeDetection:
        # ACTIVE_DIRECTORY_USN, TIMESTAMP, TIMESTAMP_NO_NEGATION or ENTRY_CSN.
        algorithm: {{.Channel.Source.ChangeDetection.Algorithm}}
        attribute: {{.Channel.Source.ChangeDetection.Attribute}}
        # auto: syncrepl (OpenLDAP) or DirSync (Active Directory) when the
        # server offers it, polling otherwise; off: polling only.
        push: {{.Channel.Source.ChangeDetection.Push}}
      accountStatus:
        # AD (userAccountControl's disabled bit), FLAG (an attribute compared
        # with flagValue) or NONE (every account is enabled).
        algorithm: {{.Channel.Source.AccountStatus.Algorithm}}
        attribute: {{quote .Channel.Source.AccountStatus.Attribute}}
        flagValue: {{quote .Channel.Source.AccountStatus.FlagValue}}
        # true: the flag value means disabled; false: it means enabled.
        flagMeansDisabled: {{.Channel.Source.AccountStatus.FlagMeansDisabled}}
        # The status of an account whose status attribute is absent.
        default: {{.Channel.Source.AccountStatus.Default}}
      # Entries per page of a search (Active Directory serves at most 1000).
      pageSize: {{.Channel.Source.PageSize}}
      # Time allowed for one directory operation.
      timeout: {{duration .Channel.Source.Timeout}}
    options:
      # Create users that are new in the directory.
      userCreate: {{.Channel.Options.UserCreate}}
      # Update users whose mapped attributes changed (and re-enable them).
      userUpdate: {{.Channel.Options.UserUpdate}}
      # Disable or delete users that are disabled, deleted or out of scope.
      userDisableDelete: {{.Channel.Options.UserDisableDelete}}
      # Create users that are disabled in the directory, disabled.
      provisionDisabledUsers: {{.Channel.Options.ProvisionDisabledUsers}}
      # disable (block sign-in) or delete (Entra keeps deleted users 30 days).
      removeUserAction: {{.Channel.Options.RemoveUserAction}}
      # Remove a user's licences when skuId maps to nothing.
      removeLicensesWhenSkuEmpty: {{.Channel.Options.RemoveLicensesWhenSkuEmpty}}
      # onPremisesImmutableId is the base64 of the GUID (as Entra Connect
      # writes it); false: the GUID as text.
      base64ImmutableId: {{.Channel.Options.Base64ImmutableID}}
      groupCreate: {{.Channel.Options.GroupCreate}}
      groupUpdate: {{.Channel.Options.GroupUpdate}}
      # Graph deletes security groups for good, so this is off by default.
      groupDelete: {{.Channel.Options.GroupDelete}}
      # security, or microsoft365 (Unified groups with a mailbox).
      groupType: {{.Channel.Options.GroupType}}
      # Members of nested groups become members of the provisioned parent.
      flattenNested: {{.Channel.Options.FlattenNested}}
      # Link existing cloud groups with the same displayName or mailNickname
      # instead of creating new ones ("" never adopts).
      adoptExistingGroups: ""
      # A plan that disables or deletes more than count users, or more than
      # percent of the channel (and more than 5), waits for
      # ` + "`o365prov plan approve`" + ` (0 turns a limit off).
      deleteThreshold:
        count: {{.Channel.Options.DeleteThreshold.Count}}
        percent: {{.Channel.Options.DeleteThreshold.Percent}}
      # A user who comes back within Entra's 30 days is restored, not created
      # again.
      restoreDeletedUsers: {{.Channel.Options.RestoreDeletedUsers}}
      # The initial password when password maps to nothing; without it each
      # user gets a random one (sign-in is federated or reset by the user).
      # globalDefaultPassword: ${env:O365PROV_DEFAULT_PASSWORD}
    # Target field: "${attribute}" (literal text around it is kept), or
    # {expr: '...'} for an expression with attr("x"), attrs("x"), dn,
    # immutableId, enabled and guid(), and the helpers base64, hex, lower,
    # upper, trim, first, join, split, default, cnFromDN, userFromEmail,
    # replace and nickname. createOnly: true writes the field only when the user is
    # created; required: true skips an entry where it is empty. Map a field
    # to "" to leave it out. Licences: skuId (GUIDs or names such as
    # ENTERPRISEPACK) and disabledPlans; usageLocation must be set for them.
    mapping:
      user:
{{- range .User}}
        {{.Name}}: {{.YAML}}
{{- end}}
        # skuId: 'ENTERPRISEPACK'
        # disabledPlans: '${o365DisabledPlans}'
        # password: '${initialPassword}'
      group:
{{- range .Group}}
        {{.Name}}: {{.YAML}}
{{- end}}

# The identity provider for federated sign-in (WS-Federation and SAML 2.0).
# sso:
#   listen: 127.0.0.1:9031
#   baseURL: https://sso.contoso.com       # public URL Microsoft sends users to
#   issuer: https://sso.contoso.com        # defaults to baseURL
#   signingKey: ""                         # PEM files, or a .p12/.pfx (then signingKeyPassword); empty: a key is generated
#   signingCertificate: ""
#   protocols: [wsfed, saml2]
#   loginSource: staff                     # the channel whose directory checks passwords
#   replyURLs: [https://login.microsoftonline.com/login.srf]
#   domains: [contoso.com]                 # federated with ` + "`o365prov federate`" + `
#   sessionLifetime: 8h
#   keyEncryptionKey: ${file:/etc/o365prov/sso-key-secret}  # seals the generated signing key
#   loginAttribute: userPrincipalName      # what people type (default: userPrincipalName on AD, mail elsewhere)
#   relayStates: [https://www.office.com/] # targets an IdP-initiated sign-in may name
#   behindProxy: false                     # true: a TLS-terminating proxy is in front
#   corporateNetworks: [10.0.0.0/8]        # sign-ins from here carry insidecorporatenetwork=true
#   tls: {certificate: /etc/o365prov/sso.crt, key: /etc/o365prov/sso.key}

# The web console, admin API and /metrics.
# console:
#   listen: 127.0.0.1:9090
#   adminToken: ${env:O365PROV_ADMIN_TOKEN}
#   tls: {certificate: /etc/o365prov/console.crt, key: /etc/o365prov/console.key}
`
