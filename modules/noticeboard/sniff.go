package noticeboard

import (
	"archive/zip"
	"bytes"
	"io"
	"path"
	"strings"
)

// docType is a kind of document the board accepts.
type docType struct {
	Name        string   // for messages: "PDF"
	ContentType string   // what downloads are served as
	Extensions  []string // the names' extensions that may carry it
}

var (
	typePDF  = docType{"PDF", "application/pdf", []string{".pdf"}}
	typeDOCX = docType{"DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", []string{".docx"}}
	typeXLSX = docType{"XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", []string{".xlsx"}}
	typeODT  = docType{"ODT", "application/vnd.oasis.opendocument.text", []string{".odt"}}
	typeODS  = docType{"ODS", "application/vnd.oasis.opendocument.spreadsheet", []string{".ods"}}
	typePNG  = docType{"PNG", "image/png", []string{".png"}}
	typeJPEG = docType{"JPEG", "image/jpeg", []string{".jpg", ".jpeg"}}
)

// allowedTypesText lists the accepted kinds for error messages.
const allowedTypesText = "PDF, DOCX, XLSX, ODT, ODS, PNG, JPEG"

// sniff tells what content is from its bytes alone; a file's name and the browser's
// Content-Type are never trusted (an .exe renamed to .pdf must not reach a citizen as a PDF).
// Zip-based formats are opened and recognised by their inner structure.
func sniff(content []byte) (docType, bool) {
	switch {
	case bytes.HasPrefix(content, []byte("%PDF-")):
		return typePDF, true
	case bytes.HasPrefix(content, []byte("\x89PNG\r\n\x1a\n")):
		return typePNG, true
	case bytes.HasPrefix(content, []byte("\xff\xd8\xff")):
		return typeJPEG, true
	case bytes.HasPrefix(content, []byte("PK\x03\x04")):
		return sniffZip(content)
	}
	return docType{}, false
}

func sniffZip(content []byte) (docType, bool) {
	zr, err := zip.NewReader(bytes.NewReader(content), int64(len(content)))
	if err != nil {
		return docType{}, false
	}
	has := map[string]*zip.File{}
	for _, f := range zr.File {
		has[f.Name] = f
	}
	// OpenDocument: a stored "mimetype" entry names the kind.
	if f, ok := has["mimetype"]; ok {
		rc, err := f.Open()
		if err != nil {
			return docType{}, false
		}
		b, err := io.ReadAll(io.LimitReader(rc, 128))
		_ = rc.Close()
		if err != nil {
			return docType{}, false
		}
		switch strings.TrimSpace(string(b)) {
		case typeODT.ContentType:
			return typeODT, true
		case typeODS.ContentType:
			return typeODS, true
		}
		return docType{}, false
	}
	// Office Open XML: [Content_Types].xml and the main part of the document.
	if _, ok := has["[Content_Types].xml"]; ok {
		if _, ok := has["word/document.xml"]; ok {
			return typeDOCX, true
		}
		if _, ok := has["xl/workbook.xml"]; ok {
			return typeXLSX, true
		}
	}
	return docType{}, false
}

// extensionMatches reports whether name's extension is one of t's.
func extensionMatches(name string, t docType) bool {
	ext := strings.ToLower(path.Ext(name))
	for _, e := range t.Extensions {
		if ext == e {
			return true
		}
	}
	return false
}
