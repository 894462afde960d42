// Package transfer moves one tenant out of and into a deployment: Export writes everything of
// the tenant (every tenant table, found in the catalogue at run time, the referenced user
// accounts, the files) into a versioned tar archive; Import restores such an archive in one
// transaction, under the same or a new tenant id; Drop deletes every row of a tenant. The
// archive format is described in docs/export-format.md; this file is its Go definition.
package transfer

import (
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/google/uuid"
)

// The archive's identity. FormatVersion changes whenever a reader of the previous version
// could misread an archive of the new one.
const (
	Format        = "epom-tenant-export"
	FormatVersion = 1
)

// Entry names. The archive is a tar stream: HeaderName first, then table parts, then file
// contents, then ManifestName last (only then are the checksums known).
const (
	HeaderName   = "header.json"
	ManifestName = "manifest.json"
	tablesDir    = "tables/"
	filesDir     = "files/"
)

// The tables outside the tenant tables that an archive carries: the tenant's registry row,
// the accounts its rows refer to, and the head of the tenant's audit hash chain
// (tenants/audit keeps one row per chain, keyed by the tenant id as text; without it the
// restored chain could be neither appended to nor verified).
const (
	tenantsTable    = "tenants"
	usersTable      = "users"
	auditHeadsTable = "audit_heads"
	// auditLogTable's hashes cover the tenant id (the chain's name). Under a new id they
	// could not verify, so a copy starts a fresh chain instead (see ImportOptions.NewID).
	auditLogTable = "tenant_audit_log"
)

// userColumns are the columns of users an archive carries. An allow-list, not "all but the
// secrets": a column added to users later (a TOTP secret, a recovery code) must not leak into
// archives that a municipality downloads. Password hashes and sessions are never exported.
var userColumns = []string{"id", "email", "name", "created_at", "disabled_at", "email_verified_at"}

// Errors of the package.
var (
	// ErrInvalidArchive means the archive is damaged, incomplete or not an epom export.
	ErrInvalidArchive = errors.New("invalid tenant archive")
	// ErrIncompatible means the archive is fine but this deployment cannot take it (format
	// or schema versions differ).
	ErrIncompatible = errors.New("incompatible tenant archive")
	// ErrConflict means the tenant, its kód obce, slug or a host name already exists here.
	ErrConflict = errors.New("conflict with an existing tenant")
)

// TenantInfo identifies the exported tenant.
type TenantInfo struct {
	ID      uuid.UUID `json:"id"`
	Slug    string    `json:"slug"`
	KodObce string    `json:"kod_obce"`
	Status  string    `json:"status"`
}

// Part is one entry of the archive with its size and SHA-256 (hex); Rows is set for table
// parts.
type Part struct {
	Name   string `json:"name"`
	Rows   int64  `json:"rows,omitempty"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Table is one table in the archive: its rows in order, split into parts.
type Table struct {
	Name  string `json:"name"`
	Rows  int64  `json:"rows"`
	Parts []Part `json:"parts"`
}

// FilesSummary counts the file entries. Each file's own SHA-256 and size are in its row of
// tables/files, which the manifest's checksums cover.
type FilesSummary struct {
	Count int64 `json:"count"`
	Bytes int64 `json:"bytes"`
}

// Manifest describes an archive. header.json holds the fields known before the first row
// (format, versions, tenant); manifest.json repeats them and adds the checksums and counts.
type Manifest struct {
	Format         string           `json:"format"`
	FormatVersion  int              `json:"format_version"`
	EpomVersion    string           `json:"epom_version"`
	CreatedAt      time.Time        `json:"created_at"`
	Tenant         TenantInfo       `json:"tenant"`
	SchemaVersions map[string]int64 `json:"schema_versions"`

	Header *Part         `json:"header,omitempty"`
	Tables []Table       `json:"tables,omitempty"`
	Files  *FilesSummary `json:"files,omitempty"`
}

// header returns the part of m that header.json holds.
func (m *Manifest) header() Manifest {
	return Manifest{Format: m.Format, FormatVersion: m.FormatVersion, EpomVersion: m.EpomVersion,
		CreatedAt: m.CreatedAt, Tenant: m.Tenant, SchemaVersions: m.SchemaVersions}
}

// checkFormat refuses anything but this format and version.
func (m *Manifest) checkFormat(entry string) error {
	if m.Format != Format {
		return fmt.Errorf("%w: %s says format %q, want %q", ErrInvalidArchive, entry, m.Format, Format)
	}
	if m.FormatVersion != FormatVersion {
		return fmt.Errorf("%w: format version %d; this epom reads version %d", ErrIncompatible, m.FormatVersion, FormatVersion)
	}
	if m.Tenant.ID == uuid.Nil {
		return fmt.Errorf("%w: %s names no tenant", ErrInvalidArchive, entry)
	}
	return nil
}

var partName = regexp.MustCompile(`^tables/([a-z_][a-z0-9_]{0,62})/([0-9]{6})\.jsonl$`)

func tablePartName(table string, n int) string {
	return fmt.Sprintf("%s%s/%06d.jsonl", tablesDir, table, n)
}

// Version is the epom version recorded in archives: the module version and VCS revision the
// binary was built from, as far as the build recorded them.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v += " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				v += "+dirty"
			}
		}
	}
	return v
}
