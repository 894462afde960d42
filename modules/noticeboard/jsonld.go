package noticeboard

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/epom-cz/epom/modules"
)

// The open data of the board in the Czech open formal norm (OFN) "Úřední desky" 2021-07-20.
const ofnContext = "https://ofn.gov.cz/úřední-desky/2021-07-20/kontexty/úřední-deska.jsonld"

type ofnText map[string]string

type ofnMoment struct {
	Typ             string `json:"typ"`
	DatumACas       string `json:"datum_a_čas,omitempty"`
	Nespecifikovany bool   `json:"nespecifikovaný,omitempty"`
}

type ofnDocument struct {
	Typ      string  `json:"typ"`
	Nazev    ofnText `json:"název"`
	URL      string  `json:"url"`
	TypMedia string  `json:"typ_média,omitempty"`
}

type ofnAgenda struct {
	Typ   string  `json:"typ"`
	Nazev ofnText `json:"název"`
}

type ofnInformation struct {
	Typ           []string      `json:"typ"`
	IRI           string        `json:"iri"`
	URL           string        `json:"url"`
	Nazev         ofnText       `json:"název"`
	Popis         ofnText       `json:"popis,omitempty"`
	Vyveseni      ofnMoment     `json:"vyvěšení"`
	RelevantniDo  ofnMoment     `json:"relevantní_do"`
	Schvaleni     *ofnMoment    `json:"schválení,omitempty"`
	CisloJednaci  string        `json:"číslo_jednací,omitempty"`
	SpisovaZnacka string        `json:"spisová_značka,omitempty"`
	Revize        string        `json:"revize,omitempty"`
	Agenda        []ofnAgenda   `json:"agenda,omitempty"`
	Dokument      []ofnDocument `json:"dokument,omitempty"`
}

type ofnOperator struct {
	Typ string `json:"typ"`
	ICO string `json:"ičo"`
}

type ofnBoard struct {
	Context      string           `json:"@context"`
	Typ          string           `json:"typ"`
	IRI          string           `json:"iri"`
	Stranka      string           `json:"stránka"`
	Nazev        ofnText          `json:"název,omitempty"`
	Provozovatel ofnOperator      `json:"provozovatel"`
	Informace    []ofnInformation `json:"informace"`
}

// ofnMomentOf is a time with its offset in Prague, or "unspecified" for nil (until further
// notice).
func ofnMomentOf(t *time.Time, loc *time.Location) ofnMoment {
	if t == nil {
		return ofnMoment{Typ: "Časový okamžik", Nespecifikovany: true}
	}
	return ofnMoment{Typ: "Časový okamžik", DatumACas: t.In(loc).Format(time.RFC3339)}
}

// boardJSONLD builds the OFN document of the notices now on the board.
func (m *Module) boardJSONLD(p modules.PublicRequest, ns []Notice) ofnBoard {
	loc := m.prague
	page := p.BaseURL + "/o/" + p.Tenant.Slug + "/" + publicPath
	b := ofnBoard{Context: ofnContext, Typ: "Úřední deska", IRI: page, Stranka: page,
		Nazev:        ofnText{"cs": "Úřední deska – " + p.Profile.DisplayName},
		Provozovatel: ofnOperator{Typ: "Osoba", ICO: p.Profile.ICO}, Informace: []ofnInformation{}}
	for _, n := range ns {
		url := page + "/" + n.ID.String()
		info := ofnInformation{Typ: []string{"Digitální objekt", "Informace na úřední desce"}, IRI: url, URL: url,
			Nazev: ofnText{"cs": n.Title}, Vyveseni: ofnMomentOf(n.PostedAt, loc), RelevantniDo: ofnMomentOf(n.RelevantUntil, loc),
			CisloJednaci: n.ReferenceNumber, SpisovaZnacka: n.FileMark, Revize: strconv.Itoa(n.Revision),
			Agenda: []ofnAgenda{{Typ: "Agenda", Nazev: ofnText{"cs": categoryName(n.Category, "cs")}}}}
		if n.Body != "" {
			info.Popis = ofnText{"cs": n.Body}
		}
		if n.ApprovedAt != nil {
			s := ofnMomentOf(n.ApprovedAt, loc)
			info.Schvaleni = &s
		}
		for _, a := range n.Attachments {
			info.Dokument = append(info.Dokument, ofnDocument{Typ: "Digitální objekt", Nazev: ofnText{"cs": a.Name},
				URL:      url + "/prilohy/" + a.ID.String(),
				TypMedia: "http://www.iana.org/assignments/media-types/" + a.ContentType})
		}
		b.Informace = append(b.Informace, info)
	}
	return b
}

// serveJSONLD answers /o/{slug}/uredni-deska.jsonld: every notice now on the board.
func (m *Module) serveJSONLD(w http.ResponseWriter, r *http.Request, p modules.PublicRequest) {
	var all []Notice
	for offset := 0; ; offset += 100 {
		ns, total, err := m.svc.store.PublicList(p.Ctx, PublicFilter{Limit: 100, Offset: offset})
		if err != nil {
			http.Error(w, "notice board unavailable", http.StatusInternalServerError)
			return
		}
		all = append(all, ns...)
		if len(ns) == 0 || len(all) >= total {
			break
		}
	}
	body, err := json.MarshalIndent(m.boardJSONLD(p, all), "", "  ")
	if err != nil {
		http.Error(w, "notice board unavailable", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/ld+json; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}
