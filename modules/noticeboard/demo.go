package noticeboard

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/tenants"
)

type demoNotice struct {
	title, body, category, originName, ref, mark string
	postedDaysAgo                                int // <0: scheduled that many days ahead
	relevantDays                                 int // days on the board; 0: until further notice
	takenDownReason                              string
	archived                                     bool
	docs                                         []string
}

func demoNotices() []demoNotice {
	return []demoNotice{
		{title: "Obecně závazná vyhláška o místním poplatku ze psů", category: "vyhlasky", ref: "OÚ/412/2026", mark: "SZ-OÚ/98/2026",
			body:          "Zastupitelstvo obce vydává obecně závaznou vyhlášku o místním poplatku ze psů. Vyhláška nabývá účinnosti patnáctým dnem po vyhlášení.",
			postedDaysAgo: 6, relevantDays: 30, docs: []string{"vyhlaska-poplatek-psi.pdf"}},
		{title: "Návrh rozpočtu obce na rok 2027", category: "rozpocet", ref: "OÚ/455/2026",
			body:          "Návrh rozpočtu je zveřejněn k připomínkám občanů. Připomínky lze podat písemně do 10. 12. 2026 nebo ústně na zasedání zastupitelstva.",
			postedDaysAgo: 3, relevantDays: 20, docs: []string{"navrh-rozpoctu-2027.pdf"}},
		{title: "Střednědobý výhled rozpočtu 2027–2029", category: "rozpocet", ref: "OÚ/456/2026",
			body: "Střednědobý výhled rozpočtu obce na roky 2027 až 2029.", postedDaysAgo: 3, relevantDays: 0,
			docs: []string{"strednedoby-vyhled.pdf"}},
		{title: "Veřejná vyhláška – návrh změny č. 2 územního plánu", category: "uzemni-plan", ref: "MMLB/UP/1207/2026", mark: "UP/2026/14",
			body:          "Pořizovatel oznamuje veřejné projednání návrhu změny č. 2 územního plánu. Veřejné projednání se koná v zasedací místnosti obecního úřadu.",
			postedDaysAgo: 12, relevantDays: 45, docs: []string{"zmena-2-up-oznameni.pdf", "zmena-2-up-vykres.pdf"}},
		{title: "Výzva k podání nabídek – oprava místní komunikace", category: "zakazky", ref: "OÚ/470/2026",
			body:          "Obec vyhlašuje veřejnou zakázku malého rozsahu na opravu místní komunikace. Nabídky lze podat do 15. 12. 2026 do 10:00.",
			postedDaysAgo: 2, relevantDays: 14, docs: []string{"vyzva-oprava-komunikace.pdf"}},
		{title: "Oznámení o době a místě konání voleb do Senátu", category: "volby", ref: "OÚ/301/2026",
			body:          "Starosta obce oznamuje dobu a místo konání voleb. Volební okrsek č. 1: zasedací místnost obecního úřadu.",
			postedDaysAgo: 70, relevantDays: 40, archived: true, docs: []string{"oznameni-volby.pdf"}},
		{title: "Finanční úřad – veřejná vyhláška o daňové povinnosti", category: "jine-urady", originName: "Finanční úřad pro Liberecký kraj",
			ref: "FÚ-LK/88123/2026", body: "Finanční úřad oznamuje doručení písemnosti veřejnou vyhláškou. Písemnost si adresát může vyzvednout na územním pracovišti.",
			postedDaysAgo: 5, relevantDays: 15, docs: []string{"fu-verejna-vyhlaska.pdf"}},
		{title: "Krajský úřad – oznámení o zahájení řízení (EIA)", category: "jine-urady", originName: "Krajský úřad Libereckého kraje",
			ref: "KULK/70211/2026", body: "Krajský úřad oznamuje zahájení zjišťovacího řízení podle zákona o posuzování vlivů na životní prostředí.",
			postedDaysAgo: 40, relevantDays: 30, archived: true, docs: []string{"kulk-eia.pdf"}},
		{title: "Uzavírka silnice III/2784", category: "ostatni", ref: "OÚ/480/2026",
			body:          "Z důvodu opravy mostu bude silnice uzavřena. Objízdná trasa je vyznačena.",
			postedDaysAgo: 20, relevantDays: 60, archived: true, takenDownReason: "Oprava mostu skončila dříve, uzavírka zrušena.",
			docs: []string{"uzavirka-iii-2784.pdf"}},
		{title: "Pozvánka na zasedání zastupitelstva", category: "ostatni", ref: "OÚ/490/2026",
			body:          "Starosta svolává veřejné zasedání zastupitelstva obce. Program: rozpočet 2027, prodej pozemků, různé.",
			postedDaysAgo: -2, relevantDays: 10, docs: []string{"pozvanka-zastupitelstvo.pdf"}},
	}
}

// SeedDemo implements modules.WithDemoData: a believable board with current, scheduled and
// archived notices and their PDFs, written by one of the tenant's staff. It does nothing if
// the board has notices already, or the tenant has no staff yet.
func (m *Module) SeedDemo(ctx context.Context) error {
	if m.svc == nil {
		return nil
	}
	s := m.svc
	var author uuid.UUID
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		var n int
		if err := tenants.DB(ctx).Raw(`SELECT count(*) FROM noticeboard_notices WHERE tenant_id = ?`, tid).Row().Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		err = tenants.DB(ctx).Raw(`SELECT user_id FROM memberships WHERE tenant_id = ? AND role IN ('clerk', 'tenant-admin')
			ORDER BY role, user_id LIMIT 1`, tid).Row().Scan(&author)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil || author == uuid.Nil {
		return err
	}
	by := Actor{UserID: author, Email: "demo"}
	now := s.nowUTC().Truncate(time.Minute)
	day := 24 * time.Hour
	return s.store.InTx(ctx, func(ctx context.Context) error {
		for _, d := range demoNotices() {
			posting := now.Add(-time.Duration(d.postedDaysAgo) * day).Truncate(time.Hour)
			var until *time.Time
			if d.relevantDays > 0 {
				u := posting.Add(time.Duration(d.relevantDays) * day)
				until = &u
			}
			origin := OriginOwn
			if d.originName != "" {
				origin = OriginOther
			}
			n, err := s.Create(ctx, by, Draft{Title: d.title, Body: d.body, Category: d.category, Origin: origin,
				OriginName: d.originName, ReferenceNumber: d.ref, FileMark: d.mark, PostingAt: &posting, RelevantUntil: until})
			if err != nil {
				return fmt.Errorf("demo notice %q: %w", d.title, err)
			}
			for _, doc := range d.docs {
				a, err := s.AddAttachment(ctx, by, n.ID, doc, simplePDF(d.title, d.body, "Číslo jednací: "+d.ref))
				if err != nil {
					return fmt.Errorf("demo attachment %s: %w", doc, err)
				}
				n.Attachments = append(n.Attachments, a)
			}
			if d.postedDaysAgo < 0 {
				n.State = StateScheduled
				if err := s.store.Update(ctx, n); err != nil {
					return err
				}
				if err := s.schedulePost(ctx, n); err != nil {
					return err
				}
				continue
			}
			n.State, n.PostedAt, n.Revision = StatePosted, &posting, 1
			if d.archived {
				down := now.Add(-day)
				if until != nil && until.Before(now) {
					down = *until
				}
				if d.takenDownReason != "" {
					down = posting.Add(5 * day)
				}
				n.State, n.TakenDownAt, n.TakeDownReason = StateArchived, &down, d.takenDownReason
			}
			if err := s.store.Update(ctx, n); err != nil {
				return err
			}
			if err := s.store.InsertRevision(ctx, revisionOf(n, by, "", posting)); err != nil {
				return err
			}
			if n.State == StatePosted {
				if err := s.scheduleTakeDown(ctx, n); err != nil {
					return err
				}
			}
		}
		return m.demoSnapshot(ctx, now) // today's proof of posting
	})
}
