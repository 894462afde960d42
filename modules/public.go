package modules

import (
	"context"
	"html/template"
	"net/http"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/tenants"
)

// PublicPages is a Public module that renders its own pages for citizens under
// /o/{slug}/<PublicPath>…: server-side, cacheable, working without JavaScript. The server
// resolves the tenant first; a tenant that does not exist, is not active or has the module
// switched off gets the server's 404 page and the module is never called.
type PublicPages interface {
	Public
	ServePublic(w http.ResponseWriter, r *http.Request, p PublicRequest)
}

// PublicRequest is one request for a module's public page.
type PublicRequest struct {
	// Ctx is bound to the tenant: the module reads with tenants.InTx in it.
	Ctx     context.Context
	Tenant  tenants.Resolved
	Profile tenants.Profile // display name, IČO and the rest of what the public sees
	// Rest is the path after /o/{slug}/, e.g. "uredni-deska/archiv" or "uredni-deska.jsonld".
	Rest    string
	Lang    string // "cs" or "en" (?lang=en)
	BaseURL string // the deployment's base URL, for absolute links in open data
	// Page writes body inside the public layout (header, language switch, footer).
	Page func(status int, title string, body template.HTML)
	// NotFound writes the server's 404 page.
	NotFound func()
	// Alternates adds <link rel="alternate"> (feeds of the page) to the head; call before Page.
	Alternates func(links ...Alternate)
	// The client's address (trusted proxies applied) and the signed-in person, if
	// any (read only when a page needs it).
	ClientIP string
	Viewer   func() (Viewer, bool)
}

// Viewer is the person signed in on a public page.
type Viewer struct {
	UserID        uuid.UUID
	Email         string
	EmailVerified bool
}

// Alternate is another form of a public page, such as its feed.
type Alternate struct{ Href, Type, Title string }
