package server

import (
	"context"

	"github.com/epom-cz/epom/tenants/identity"
)

// RequestUser returns the signed-in user of the request and who sent it, for modules'
// handlers (the author of a notice, the actor of an audit entry). ctx is the handler's.
func RequestUser(ctx context.Context) (identity.User, Client, bool) {
	p, ok := principalFrom(ctx)
	if !ok {
		return identity.User{}, Client{}, false
	}
	return p.User, clientFrom(ctx), true
}
