package onboarding

// The texts of the subscription e-mails, Czech first; the applicant's in the language they
// filled the form in, the operators' in Czech.

func pick(lang, cs, en string) string {
	if lang == "en" {
		return en
	}
	return cs
}

func receivedMail(lang, to, name, municipality, ref string) Mail {
	return Mail{To: to, ToName: name, Lang: lang, Ref: ref,
		Title: pick(lang, "Žádost o epom pro obec "+municipality+" jsme přijali",
			"We have received the request for epom for "+municipality),
		Paragraphs: []string{
			pick(lang, "děkujeme za objednávku epom pro obec "+municipality+".",
				"thank you for ordering epom for "+municipality+"."),
			pick(lang, "Žádost nyní posoudí operátor vašeho kraje. O výsledku vám napíšeme; po schválení obdržíte pozvánku, kterou se stanete správcem obce v epom.",
				"The operator of your region will now review it. We will write to you with the outcome; once approved you will receive an invitation to become the municipality's administrator in epom."),
		}}
}

func operatorMail(to, name, municipality, kraj, baseURL, ref string) Mail {
	return Mail{To: to, ToName: name, Lang: "cs", Ref: ref,
		Title:       "Nová žádost o připojení: " + municipality,
		Paragraphs:  []string{"obec " + municipality + " požádala o připojení k epom. Žádost čeká na vaše schválení nebo zamítnutí."},
		ActionURL:   baseURL + "/app/kraj/" + kraj + "/zadosti",
		ActionLabel: "Otevřít žádosti",
		Note:        "Tuto zprávu dostáváte jako operátor kraje v epom."}
}

func approvedMail(q Request, slug, baseURL string) Mail {
	return Mail{To: q.Email, ToName: q.ContactName, Lang: q.Lang, Ref: "subscription-request:" + q.ID.String(),
		Title: pick(q.Lang, "Žádost o epom pro obec "+q.Municipality+" byla schválena",
			"The request for epom for "+q.Municipality+" has been approved"),
		Paragraphs: []string{
			pick(q.Lang, "operátor kraje vaši žádost schválil a obec "+q.Municipality+" má nyní svůj epom.",
				"the regional operator has approved your request; "+q.Municipality+" now has its epom."),
			pick(q.Lang, "V samostatné zprávě vám přijde pozvánka, kterou se stanete správcem obce. Přijměte ji prosím co nejdříve.",
				"A separate message brings your invitation to become the municipality's administrator. Please accept it soon."),
		},
		ActionURL:   baseURL + "/o/" + slug,
		ActionLabel: pick(q.Lang, "Stránka obce", "The municipality's page")}
}

func rejectedMail(q Request) Mail {
	return Mail{To: q.Email, ToName: q.ContactName, Lang: q.Lang, Ref: "subscription-request:" + q.ID.String(),
		Title: pick(q.Lang, "Žádost o epom pro obec "+q.Municipality+" byla zamítnuta",
			"The request for epom for "+q.Municipality+" has been rejected"),
		Paragraphs: []string{
			pick(q.Lang, "operátor kraje vaši žádost zamítl s tímto odůvodněním:",
				"the regional operator has rejected your request, giving this reason:"),
			q.Reason,
			pick(q.Lang, "S dotazy se obraťte na krajský úřad. Novou žádost můžete podat kdykoli.",
				"For questions, contact the regional authority. You may file a new request at any time."),
		}}
}
