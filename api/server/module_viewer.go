package server

import (
	"github.com/gin-gonic/gin"

	"github.com/epom-cz/epom/modules"
)

// viewer is the person signed in on a module's public page (session cookie), if any. A
// public page only reads who it is; it never changes the session.
func (s *Server) viewer(c *gin.Context) (modules.Viewer, bool) {
	token, err := c.Cookie(SessionCookie)
	if err != nil || token == "" || s.deps.Identity == nil {
		return modules.Viewer{}, false
	}
	ctx := c.Request.Context()
	sess, err := s.deps.Identity.Session(ctx, token)
	if err != nil {
		return modules.Viewer{}, false
	}
	u, err := s.deps.Identity.User(ctx, sess.UserID)
	if err != nil {
		return modules.Viewer{}, false
	}
	verified, err := s.deps.Identity.EmailVerified(ctx, u.ID)
	if err != nil {
		return modules.Viewer{}, false
	}
	return modules.Viewer{UserID: u.ID, Email: u.Email, EmailVerified: verified}, true
}
