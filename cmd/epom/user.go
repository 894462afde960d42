package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"

	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/identity"
)

const userUsage = `usage:
  epom user reset-mfa -email ADDRESS -reason "TEXT" [-lang cs|en]
    Removes the account's two-factor sign-in (TOTP secret and recovery codes) and ends all of
    its sessions, for staff a municipality's admin may not reset (staff of several
    municipalities, platform admins, regional operators). The user is told by e-mail; the
    reset is in the platform's audit log with this OS user as the actor.`

func runUser(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "reset-mfa" {
		return usagef(userUsage)
	}
	fs := flag.NewFlagSet("user reset-mfa", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("email", "", "the account's e-mail address")
	reason := fs.String("reason", "", "why (3 to 500 characters); in the audit log and the e-mail to the user")
	lang := fs.String("lang", "cs", "language of the e-mail to the user: cs or en")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *addr == "" || *reason == "" || fs.NArg() > 0 {
		return usagef(userUsage)
	}
	if *lang != "cs" && *lang != "en" {
		return usagef("-lang must be cs or en")
	}
	app, err := openPool(ctx, cfg.DatabaseURL, 2, "app")
	if err != nil {
		return err
	}
	defer app.Close()
	platform, err := openPool(ctx, cfg.PlatformDatabaseURL, 2, "platform")
	if err != nil {
		return err
	}
	defer platform.Close()
	db, err := tenants.NewDatabase(app)
	if err != nil {
		return err
	}
	mailSvc, err := newMailService(cfg, db, newLogger(cfg))
	if err != nil {
		return err
	}
	users, err := identity.NewService(app, platform, db, identity.Config{SecretKey: cfg.SecretKey, PreviousKeys: cfg.SecretKeysPrevious})
	if err != nil {
		return err
	}
	actor := "cli:" + osUser()
	res, err := users.ResetMFAByOperator(ctx, mailSvc, audit.New(db, platform), identity.OperatorMFAReset{
		Email: *addr, Reason: *reason, Lang: *lang, Actor: actor, BaseURL: cfg.BaseURL})
	var ie *identity.InputError
	if errors.As(err, &ie) {
		return usagef("-%s: %s", ie.Field, ie.EN)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "reset two-factor sign-in of %s (%s)\n", res.User.Email, res.User.Name)
	fmt.Fprintf(out, "  TOTP secret removed:           %s\n", yesNo(res.TOTPRemoved))
	fmt.Fprintf(out, "  unused recovery codes removed: %d\n", res.RecoveryCodesRemoved)
	fmt.Fprintf(out, "  sessions ended:                %d\n", res.SessionsEnded)
	fmt.Fprintf(out, "  e-mail to the user queued:     %s (the worker sends it)\n", res.MailID)
	fmt.Fprintf(out, "  audit:                         platform log, action mfa-reset, actor %s\n", actor)
	fmt.Fprintln(out, "The user signs in with the password next time and sets up two-factor sign-in again.")
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no (it was not set up)"
}

// osUser names who ran the command, for the audit log.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}
