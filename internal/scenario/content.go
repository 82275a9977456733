package scenario

// This file holds the content of the scenario. Text is simple English, ready
// to translate. Rules for editing it: say in every text that it is demo
// data, quote nobody, name no real person except the two officials of the
// ministerial-meeting report (as a reported fact), present no invented
// figure as an official statistic, and attribute every assessment to a demo
// analyst identity. A shared object never refers to a party-internal one.

// Identifiers of the objects that others refer to.
var (
	idGovMEX     = id("identity", "government-mex")
	idGovUSA     = id("identity", "government-usa")
	idSEMAR      = id("identity", "semar")
	idGN         = id("identity", "guardia-nacional")
	idFGR        = id("identity", "fgr")
	idSRE        = id("identity", "sre")
	idNORTHCOM   = id("identity", "northcom")
	idDEA        = id("identity", "dea")
	idState      = id("identity", "department-of-state")
	idAnalystMEX = id("identity", "demo-analyst-mex-1")
	idAnalystUSA = id("identity", "demo-analyst-usa-1")

	idExtSeizure      = id("extension-definition", "seizure")
	idExtCoordRequest = id("extension-definition", "coordination-request")

	idLocPacific = id("location", "pacific-coast-mexico")
	idLocSinaloa = id("location", "sinaloa")
	idLocPort    = id("location", "port-of-manzanillo")
	idLocArizona = id("location", "arizona-border")

	idSzCocaine = id("seizure", "cocaine-pacific-coast")
	idSzLab1    = id("seizure", "laboratory-sinaloa-1")
	idSzLab2    = id("seizure", "laboratory-sinaloa-2")
	idSzPrec1   = id("seizure", "precursors-manzanillo")
	idSzPrec2   = id("seizure", "precursors-warehouse")
	idSzPills   = id("seizure", "fentanyl-pills-arizona")

	idRelPrecLab = id("relationship", "precursors-manzanillo-laboratory-1")

	idRptCocaine     = id("report", "cocaine-interdiction")
	idRptFentanyl    = id("report", "fentanyl-seizures-2025")
	idRptMinisterial = id("report", "ministerial-meeting")
	idRptMoneyUSA    = id("report", "bulk-cash")

	idClaimSea      = id("note", "claim-sea-shipments")
	idClaimDeaths   = id("note", "claim-deaths")
	idClaimDrop     = id("note", "claim-homicide-drop")
	idClaimHomicide = id("note", "figure-homicides")

	idCoordRequest = id("coordination-request", "joint-operation-pacific")
)

// build adds the scenario's objects to b, each after those it refers to.
func (b *builder) build() {
	b.identities()
	b.extensionDefinitions()
	b.cocaineInterdiction()
	b.laboratoriesAndPrecursors()
	b.moneyLaundering()
	b.custodyTransfers()
	b.coordinationRequest()
	b.contestedFigures()
	b.internalMEX()
}

// identities adds the two governments, their agencies and the two demo
// analysts.
func (b *builder) identities() {
	const at = "2025-12-01T00:00:00.000Z"
	org := func(party, key, by, name, desc string, sectors ...string) {
		b.add(spec{gCoord, party, "identity", key, at, by, tlpClear, map[string]any{
			"name":           name,
			"description":    desc,
			"identity_class": "organization",
			"sectors":        sectors,
		}})
	}
	org(mex, "government-mex", "", "Government of Mexico",
		"Demo data: the Government of Mexico as a party of the Puente demo scenario.",
		"government-national")
	org(usa, "government-usa", "", "Government of the United States",
		"Demo data: the Government of the United States as a party of the Puente demo scenario.",
		"government-national")
	org(mex, "semar", idGovMEX, "Secretaría de Marina (SEMAR)",
		"Demo data: Mexico's Navy, as an agency of the Puente demo scenario.",
		"government-national", "defense")
	org(mex, "guardia-nacional", idGovMEX, "Guardia Nacional",
		"Demo data: Mexico's National Guard, as an agency of the Puente demo scenario.",
		"government-national")
	org(mex, "fgr", idGovMEX, "Fiscalía General de la República (FGR)",
		"Demo data: Mexico's federal Attorney General's Office, as an agency of the Puente demo scenario.",
		"government-national")
	org(mex, "sre", idGovMEX, "Secretaría de Relaciones Exteriores (SRE)",
		"Demo data: Mexico's Ministry of Foreign Affairs, as an agency of the Puente demo scenario.",
		"government-national")
	org(usa, "northcom", idGovUSA, "U.S. Northern Command (NORTHCOM)",
		"Demo data: the U.S. military command for North America, as an agency of the Puente demo scenario.",
		"government-national", "defense")
	org(usa, "dea", idGovUSA, "Drug Enforcement Administration (DEA)",
		"Demo data: the U.S. Drug Enforcement Administration, as an agency of the Puente demo scenario.",
		"government-national")
	org(usa, "department-of-state", idGovUSA, "U.S. Department of State",
		"Demo data: the U.S. Department of State, as an agency of the Puente demo scenario.",
		"government-national")

	person := func(party, key, by, name, desc string) {
		b.add(spec{gCoord, party, "identity", key, at, by, tlpClear, map[string]any{
			"name":           name,
			"description":    desc,
			"identity_class": "individual",
		}})
	}
	person(mex, "demo-analyst-mex-1", idSRE, "Demo analyst MEX-1 (SRE)",
		"Demo data: a fictional analyst user of Mexico's Ministry of Foreign Affairs. Not a real person.")
	person(usa, "demo-analyst-usa-1", idDEA, "Demo analyst USA-1 (DEA)",
		"Demo data: a fictional analyst user of the U.S. Drug Enforcement Administration. Not a real person.")
}

// extensionDefinitions declares the scenario's two new object types.
func (b *builder) extensionDefinitions() {
	const at = "2025-12-01T00:00:00.000Z"
	b.add(spec{gCoord, mex, "extension-definition", "seizure", at, idGovMEX, tlpClear, map[string]any{
		"name":        "seizure",
		"description": "Demo data: declares the seizure object type of the Puente demo scenario, a seizure of drugs, precursor chemicals or a clandestine laboratory.",
		"schema": "Plain-text schema of the seizure object type (demo). Properties: " +
			"name (string, required); description (string); " +
			"seizure_type (string, required: drugs, precursor-chemicals or clandestine-laboratory); " +
			"substance (string); quantity_kg (number, kilograms); " +
			"seized_at (timestamp, required: when the seizure took place); " +
			"location_ref (identifier of a location); " +
			"seized_by_refs (list of identity identifiers, required: the agencies that made the seizure); " +
			"supported_by_refs (list of identity identifiers: agencies that supported it).",
		"version":         "1.0.0",
		"extension_types": []string{newSDO},
	}})
	b.add(spec{gCoord, usa, "extension-definition", "coordination-request", at, idGovUSA, tlpClear, map[string]any{
		"name":        "coordination-request",
		"description": "Demo data: declares the coordination-request object type of the Puente demo scenario, a request from one party to another for a coordinated action.",
		"schema": "Plain-text schema of the coordination-request object type (demo). Properties: " +
			"name (string, required); description (string, required); " +
			"kind (string, required: request-for-information, request-for-assistance, joint-operation or custody-transfer); " +
			"requester_party and host_party (strings, required: ISO 3166-1 alpha-3 codes; the host is the party whose territory or custody is concerned); " +
			"requester_ref (identifier of the requesting agency, required); " +
			"location_ref (identifier of a location); " +
			"window_start and window_end (timestamps: the proposed time window); " +
			"urgency (string, required: low, medium or high); " +
			"response_deadline (timestamp, required); " +
			"status (string, required: draft, submitted, acknowledged, approved, approved-with-conditions, declined, countered, executed, closed or withdrawn); " +
			"escalation_level (string, required: working-group, ministerial or heads-of-government).",
		"version":         "1.0.0",
		"extension_types": []string{newSDO},
	}})
}

// cocaineInterdiction adds the late-December 2025 interdiction on the
// Pacific coast.
func (b *builder) cocaineInterdiction() {
	b.add(spec{gCoord, mex, "location", "pacific-coast-mexico", "2025-12-29T08:00:00.000Z", idSEMAR, tlpGreen, map[string]any{
		"name":        "Pacific coast of Mexico",
		"description": "Demo data: the general area of the late-December 2025 cocaine interdiction. No precise position is given.",
		"region":      "central-america",
		"country":     "MX",
	}})
	b.add(spec{gCoord, mex, "seizure", "cocaine-pacific-coast", "2025-12-29T08:00:00.000Z", idSEMAR, tlpGreen, map[string]any{
		"name":              "Interdiction of 1.6 t of cocaine on the Pacific coast",
		"description":       "Demo data: about 1.6 t of cocaine seized after it landed on Mexico's Pacific coast, by Mexico's Navy and National Guard with support from U.S. Northern Command, as publicly reported. Public reports place it in late December 2025; the exact date in this record is illustrative.",
		"seizure_type":      "drugs",
		"substance":         "cocaine",
		"quantity_kg":       1600,
		"seized_at":         "2025-12-27T00:00:00.000Z",
		"location_ref":      idLocPacific,
		"seized_by_refs":    []string{idSEMAR, idGN},
		"supported_by_refs": []string{idNORTHCOM},
	}})
	b.add(spec{gCoord, mex, "report", "cocaine-interdiction", "2025-12-30T12:00:00.000Z", idSEMAR, tlpGreen, map[string]any{
		"name":        "Late-December 2025 cocaine interdiction on the Pacific coast",
		"description": "Demo data built from public reports: Mexico's Navy (SEMAR) and National Guard seized about 1.6 t of cocaine after it landed on Mexico's Pacific coast in late December 2025, working with U.S. Northern Command. Details in this record are illustrative.",
		"published":   "2025-12-30T12:00:00.000Z",
		"object_refs": []string{idSzCocaine, idLocPacific, idSEMAR, idGN, idNORTHCOM},
	}})
}

// laboratoriesAndPrecursors adds seized laboratories, precursor shipments
// and the 2025 fentanyl summary.
func (b *builder) laboratoriesAndPrecursors() {
	b.add(spec{gFentanyl, mex, "location", "sinaloa", "2025-12-18T10:00:00.000Z", idSEMAR, tlpGreen, map[string]any{
		"name":                "Sinaloa, Mexico",
		"description":         "Demo data: the state where the demo laboratories were found. No precise position is given.",
		"administrative_area": "Sinaloa",
		"region":              "central-america",
		"country":             "MX",
	}})
	b.add(spec{gFentanyl, mex, "seizure", "laboratory-sinaloa-1", "2025-12-18T10:00:00.000Z", idSEMAR, tlpAmber, map[string]any{
		"name":           "Clandestine laboratory dismantled in Sinaloa (demo)",
		"description":    "Demo data: an illustrative clandestine synthetic-drug laboratory dismantled by Mexico's Navy. The quantity is an illustrative figure.",
		"seizure_type":   "clandestine-laboratory",
		"substance":      "fentanyl",
		"quantity_kg":    120,
		"seized_at":      "2025-12-15T00:00:00.000Z",
		"location_ref":   idLocSinaloa,
		"seized_by_refs": []string{idSEMAR},
	}})
	b.add(spec{gFentanyl, mex, "seizure", "laboratory-sinaloa-2", "2025-12-22T10:00:00.000Z", idGN, tlpAmberStrict, map[string]any{
		"name":           "Clandestine laboratory under investigation in Sinaloa (demo)",
		"description":    "Demo data: an illustrative laboratory found by Mexico's National Guard, still under investigation. It is shared in the working group but marked TLP:AMBER+STRICT, so it must not leave Mexico. The quantity is an illustrative figure.",
		"seizure_type":   "clandestine-laboratory",
		"substance":      "fentanyl precursor chemicals",
		"quantity_kg":    300,
		"seized_at":      "2025-12-20T00:00:00.000Z",
		"location_ref":   idLocSinaloa,
		"seized_by_refs": []string{idGN},
	}})

	b.add(spec{gPrecursors, mex, "location", "port-of-manzanillo", "2025-12-12T09:00:00.000Z", idSEMAR, tlpGreen, map[string]any{
		"name":                "Port of Manzanillo, Colima",
		"description":         "Demo data: a Pacific port where the demo precursor shipment was inspected.",
		"city":                "Manzanillo",
		"administrative_area": "Colima",
		"region":              "central-america",
		"country":             "MX",
	}})
	b.add(spec{gPrecursors, mex, "seizure", "precursors-manzanillo", "2025-12-12T09:00:00.000Z", idSEMAR, tlpAmber, map[string]any{
		"name":           "Precursor chemicals seized at the Port of Manzanillo (demo)",
		"description":    "Demo data: an illustrative shipment of fentanyl precursor chemicals seized by Mexico's Navy at a Pacific port. The quantity is an illustrative figure.",
		"seizure_type":   "precursor-chemicals",
		"substance":      "fentanyl precursor chemicals",
		"quantity_kg":    2500,
		"seized_at":      "2025-12-10T00:00:00.000Z",
		"location_ref":   idLocPort,
		"seized_by_refs": []string{idSEMAR},
	}})
	b.add(spec{gPrecursors, mex, "seizure", "precursors-warehouse", "2026-01-07T11:00:00.000Z", idFGR, tlpGreen, map[string]any{
		"name":           "Precursor chemicals seized in a warehouse (demo)",
		"description":    "Demo data: an illustrative seizure of precursor chemicals in a warehouse by the Attorney General's Office with the National Guard. The quantity is an illustrative figure.",
		"seizure_type":   "precursor-chemicals",
		"substance":      "fentanyl precursor chemicals",
		"quantity_kg":    800,
		"seized_at":      "2026-01-06T00:00:00.000Z",
		"seized_by_refs": []string{idFGR, idGN},
	}})
	b.add(spec{gPrecursors, mex, "relationship", "precursors-manzanillo-laboratory-1", "2026-01-07T12:00:00.000Z", idSEMAR, tlpAmber, map[string]any{
		"relationship_type": "related-to",
		"description":       "Demo data, illustrative link: chemicals of the kind seized at the port were also found at the laboratory.",
		"source_ref":        idSzPrec1,
		"target_ref":        idSzLab1,
	}})
	b.add(spec{gPrecursors, mex, "report", "precursor-shipments", "2026-01-08T09:00:00.000Z", idFGR, tlpAmber, map[string]any{
		"name":        "Precursor chemical shipments, December 2025 to January 2026 (demo)",
		"description": "Demo data: a summary of the illustrative precursor seizures shared in this working group and their link to a seized laboratory.",
		"published":   "2026-01-08T09:00:00.000Z",
		"object_refs": []string{idSzPrec1, idSzPrec2, idRelPrecLab},
	}})

	b.add(spec{gFentanyl, mex, "report", "seized-laboratories", "2026-01-07T09:00:00.000Z", idSEMAR, tlpAmber, map[string]any{
		"name":        "Seized clandestine laboratories: shared campaign data (demo)",
		"description": "Demo data: Mexico shares data on its campaign against synthetic-drug laboratories, part of the year-long military offensive against the Sinaloa Cartel described in public reports. The entries are illustrative.",
		"published":   "2026-01-07T09:00:00.000Z",
		"object_refs": []string{idSzLab1, idLocSinaloa, idSEMAR, idGN},
	}})
	b.add(spec{gFentanyl, mex, "report", "fentanyl-seizures-2025", "2026-01-05T10:00:00.000Z", idFGR, tlpGreen, map[string]any{
		"name":        "Fentanyl seizures in 2025: year summary (demo)",
		"description": "Demo data: public reports describe 2025 as a record year for fentanyl seizures. Any total shown with this demo is an illustrative figure, not an official statistic.",
		"published":   "2026-01-05T10:00:00.000Z",
		"object_refs": []string{idSzLab1, idLocSinaloa, idGovMEX},
	}})

	b.add(spec{gFentanyl, usa, "location", "arizona-border", "2026-01-09T15:00:00.000Z", idDEA, tlpGreen, map[string]any{
		"name":                "Arizona border area, United States",
		"description":         "Demo data: the general area of the demo fentanyl pill seizure. No precise position is given.",
		"administrative_area": "Arizona",
		"region":              "northern-america",
		"country":             "US",
	}})
	b.add(spec{gFentanyl, usa, "seizure", "fentanyl-pills-arizona", "2026-01-09T15:00:00.000Z", idDEA, tlpAmber, map[string]any{
		"name":           "Fentanyl pills seized near the Arizona border (demo)",
		"description":    "Demo data: an illustrative seizure of fentanyl pills by the DEA. The quantity is an illustrative figure.",
		"seizure_type":   "drugs",
		"substance":      "fentanyl pills",
		"quantity_kg":    45,
		"seized_at":      "2026-01-08T00:00:00.000Z",
		"location_ref":   idLocArizona,
		"seized_by_refs": []string{idDEA},
	}})
	b.add(spec{gFentanyl, usa, "relationship", "fentanyl-pills-arizona-laboratory-1", "2026-01-09T16:00:00.000Z", idDEA, tlpAmber, map[string]any{
		"relationship_type": "related-to",
		"description":       "Demo data, illustrative link: the DEA assesses that the pills may come from a laboratory like the one Mexico dismantled in Sinaloa.",
		"source_ref":        idSzPills,
		"target_ref":        idSzLab1,
	}})
	b.add(spec{gFentanyl, usa, "report", "fentanyl-border-trends", "2026-01-09T17:00:00.000Z", idDEA, tlpAmber, map[string]any{
		"name":        "Fentanyl trafficking trends at the border (demo)",
		"description": "Demo data: an illustrative DEA summary of fentanyl seizures near the border, shared with Mexico in the working group.",
		"published":   "2026-01-09T17:00:00.000Z",
		"object_refs": []string{idSzPills, idLocArizona, idDEA},
	}})
}

// moneyLaundering adds the money-laundering group's content.
func (b *builder) moneyLaundering() {
	b.add(spec{gMoney, mex, "report", "precursor-payments", "2026-01-10T10:00:00.000Z", idFGR, tlpAmber, map[string]any{
		"name":        "Financial flows linked to precursor purchases (demo)",
		"description": "Demo data: an illustrative analysis by the Attorney General's Office of payments for imported precursor chemicals made through front companies.",
		"published":   "2026-01-10T10:00:00.000Z",
		"object_refs": []string{idSzPrec1, idFGR},
	}})
	b.add(spec{gMoney, usa, "report", "bulk-cash", "2026-01-11T14:00:00.000Z", idDEA, tlpAmber, map[string]any{
		"name":        "Bulk cash movements toward the southern border (demo)",
		"description": "Demo data: an illustrative DEA analysis of bulk cash moved from the United States toward Mexico.",
		"published":   "2026-01-11T14:00:00.000Z",
		"object_refs": []string{idLocArizona, idDEA},
	}})
	b.add(spec{gMoney, mex, "note", "bulk-cash-follow-up", "2026-01-12T09:00:00.000Z", idFGR, tlpGreen, map[string]any{
		"abstract":    "Joint review suggested (demo)",
		"content":     "Demo data: the Attorney General's Office notes that the patterns in this report resemble cases in its own demo data, and suggests a joint review in the working group.",
		"object_refs": []string{idRptMoneyUSA},
	}})
}

// custodyTransfers adds the two 2025 transfers of cartel figures to U.S.
// custody. No person is named.
func (b *builder) custodyTransfers() {
	b.add(spec{gCoord, mex, "report", "custody-transfer-1", "2025-12-22T10:00:00.000Z", idFGR, tlpGreen, map[string]any{
		"name":        "First 2025 transfer of high-level cartel figures to U.S. custody",
		"description": "Demo data built from public reports: in February 2025 Mexico transferred a group of high-level cartel figures to U.S. authorities, the first of two large transfers that year. This demo names no one.",
		"published":   "2025-12-22T10:00:00.000Z",
		"object_refs": []string{idFGR, idGovUSA},
	}})
	b.add(spec{gCoord, usa, "report", "custody-transfer-2", "2025-12-22T16:00:00.000Z", idState, tlpGreen, map[string]any{
		"name":        "Second 2025 transfer of high-level cartel figures to U.S. custody",
		"description": "Demo data built from public reports: in August 2025 Mexico transferred a second large group of high-level cartel figures to U.S. authorities. This demo names no one.",
		"published":   "2025-12-22T16:00:00.000Z",
		"object_refs": []string{idGovMEX, idFGR},
	}})
}

// coordinationRequest adds the pending joint-operation request with Mexico
// as host, its restricted annex and the ministerial-meeting report.
func (b *builder) coordinationRequest() {
	b.add(spec{gCoord, usa, "coordination-request", "joint-operation-pacific", "2026-01-13T15:00:00.000Z", idNORTHCOM, tlpAmber, map[string]any{
		"name": "Joint maritime operation off the Pacific coast (demo request)",
		"description": "Demo data: an illustrative request from U.S. Northern Command for a joint maritime operation with Mexico's Navy, following the late-December 2025 interdiction. " +
			"Mexico is the host party: no action may take place on Mexican territory without a decision by Mexico. " +
			"If no decision is made by the response deadline, the request escalates one level: from the working group to the foreign ministries, then to the heads of government.",
		"kind":              "joint-operation",
		"requester_party":   usa,
		"requester_ref":     idNORTHCOM,
		"host_party":        mex,
		"location_ref":      idLocPacific,
		"window_start":      "2026-02-01T00:00:00.000Z",
		"window_end":        "2026-02-15T00:00:00.000Z",
		"urgency":           "high",
		"response_deadline": "2026-01-20T00:00:00.000Z",
		"status":            "submitted",
		"escalation_level":  "working-group",
	}})
	b.add(spec{gCoord, usa, "relationship", "joint-operation-pacific-cocaine", "2026-01-13T15:01:00.000Z", idNORTHCOM, tlpAmber, map[string]any{
		"relationship_type": "related-to",
		"description":       "Demo data: the joint-operation request follows the late-December 2025 interdiction.",
		"source_ref":        idCoordRequest,
		"target_ref":        idSzCocaine,
	}})
	b.add(spec{gCoord, usa, "note", "joint-operation-pacific-annex", "2026-01-13T15:05:00.000Z", idNORTHCOM, tlpRed, map[string]any{
		"abstract":    "Operational annex (demo)",
		"content":     "Demo data: an illustrative operational annex to the joint-operation request, with the proposed units and time window. Marked TLP:RED: for the named recipients only.",
		"object_refs": []string{idCoordRequest},
	}})
	b.add(spec{gCoord, mex, "report", "ministerial-meeting", "2026-01-12T18:00:00.000Z", idSRE, tlpGreen, map[string]any{
		"name": "Ministerial channel: foreign ministers to meet (demo)",
		"description": "Demo data, as reported in January 2026: Foreign Minister Juan Ramón de la Fuente was tasked to meet U.S. Secretary of State Marco Rubio. " +
			"In Puente this is the ministerial level of the escalation ladder (working group, then foreign ministries, then heads of government). " +
			"The same reports mention a press conference in Guerrero. No statement is quoted here.",
		"published":   "2026-01-12T18:00:00.000Z",
		"object_refs": []string{idSRE, idState},
	}})
}

// contestedFigures adds disputed figures as claims, each attributed to
// its source, with both sides' assessments side by side.
func (b *builder) contestedFigures() {
	claim := func(party, key, at, by, abstract, content string, refs ...string) {
		b.add(spec{gCoord, party, "note", key, at, by, tlpGreen, map[string]any{
			"abstract":    abstract,
			"content":     content,
			"object_refs": refs,
		}})
	}
	claim(usa, "claim-sea-shipments", "2026-01-06T10:00:00.000Z", idState,
		"Claim: 97% of drug shipments by sea disrupted",
		"Demo data: a claim attributed to a U.S. government statement (demo): 97% of drug shipments by sea were disrupted. It is recorded as a claim, not as a fact; see the assessments attached to it.",
		idRptCocaine, idGovUSA)
	claim(usa, "claim-deaths", "2026-01-06T10:05:00.000Z", idState,
		"Claim: 250,000 to 300,000 deaths a year",
		"Demo data: a claim attributed to a U.S. government statement (demo): drugs cause 250,000 to 300,000 deaths a year. It is recorded as a claim, not as a fact; see the assessments attached to it.",
		idRptFentanyl, idGovUSA)
	claim(mex, "claim-homicide-drop", "2026-01-08T12:00:00.000Z", idSRE,
		"Claim: 40% drop in homicides since October 2024 (preliminary)",
		"Demo data: a claim attributed to a Mexican government statement (demo): a preliminary figure shows a 40% drop in homicides since October 2024. It is recorded as a claim, not as a fact; see the assessments attached to it.",
		idGovMEX)
	claim(usa, "figure-homicides", "2026-01-08T14:00:00.000Z", idDEA,
		"Figure: over 30,000 homicides a year in recent years",
		"Demo data: reported national figures (demo) show over 30,000 homicides a year in Mexico in recent years. It is recorded next to the preliminary figure so that both can be compared.",
		idGovMEX, idClaimDrop)

	assess := func(party, key, at, by, tlp, opinion, explanation string, refs ...string) {
		b.add(spec{gCoord, party, "opinion", key, at, by, tlp, map[string]any{
			"opinion":     opinion,
			"explanation": explanation,
			"object_refs": refs,
		}})
	}
	assess(mex, "mex-1-sea-shipments", "2026-01-07T09:00:00.000Z", idAnalystMEX, tlpGreen, "disagree",
		"Illustrative demo assessment: the data shared in this demo does not allow the share of disrupted sea shipments to be checked.",
		idClaimSea)
	assess(usa, "usa-1-sea-shipments", "2026-01-07T11:00:00.000Z", idAnalystUSA, tlpGreen, "agree",
		"Illustrative demo assessment: the claim is consistent with the maritime interdictions recorded in this demo, including the late-December seizure.",
		idClaimSea)
	assess(mex, "mex-1-deaths", "2026-01-07T09:30:00.000Z", idAnalystMEX, tlpGreen, "neutral",
		"Illustrative demo assessment: the sources and the method behind this figure are not shared in this working group, so it cannot be assessed here.",
		idClaimDeaths)
	assess(usa, "usa-1-deaths", "2026-01-07T11:30:00.000Z", idAnalystUSA, tlpAmber, "strongly-agree",
		"Illustrative demo assessment: the U.S. side keeps this figure and will share its sources in the working group.",
		idClaimDeaths)
	assess(mex, "mex-1-homicide-drop", "2026-01-09T09:00:00.000Z", idAnalystMEX, tlpGreen, "strongly-agree",
		"Illustrative demo assessment: the preliminary figure matches the trend in the Mexican data held for this demo.",
		idClaimDrop)
	assess(usa, "usa-1-homicide-drop", "2026-01-09T11:00:00.000Z", idAnalystUSA, tlpGreen, "neutral",
		"Illustrative demo assessment: the figure is preliminary; the U.S. side will assess it when the final data is shared.",
		idClaimDrop)
	assess(usa, "usa-1-homicides", "2026-01-09T11:15:00.000Z", idAnalystUSA, tlpGreen, "agree",
		"Illustrative demo assessment: the level is consistent with the published national figures.",
		idClaimHomicide)
	assess(mex, "mex-1-homicides", "2026-01-09T12:00:00.000Z", idAnalystMEX, tlpGreen, "agree",
		"Illustrative demo assessment: both figures can hold at the same time: the level of recent years and the preliminary drop since October 2024.",
		idClaimHomicide, idClaimDrop)
}

// internalMEX adds objects of Mexico's internal collection. They never
// cross a border, and no shared object refers to them.
func (b *builder) internalMEX() {
	b.add(spec{gInternal, mex, "note", "internal-approver-briefing", "2026-01-14T08:00:00.000Z", idSRE, tlpAmberStrict, map[string]any{
		"abstract":    "Internal: briefing for the approver (demo)",
		"content":     "Demo data, internal to Mexico: prepare the approver's briefing on the joint-operation request before the response deadline. Mexico's consent is required before any action on Mexican territory.",
		"object_refs": []string{idCoordRequest},
	}})
	b.add(spec{gInternal, mex, "note", "internal-laboratory-follow-up", "2026-01-14T09:00:00.000Z", idSEMAR, tlpAmberStrict, map[string]any{
		"abstract":    "Internal: follow-up on the laboratory under investigation (demo)",
		"content":     "Demo data, internal to Mexico: the investigation of the second Sinaloa laboratory continues; nothing more is to be shared until it ends.",
		"object_refs": []string{idSzLab2},
	}})
	b.add(spec{gInternal, mex, "report", "internal-ministerial-preparation", "2026-01-14T10:00:00.000Z", idSRE, tlpAmberStrict, map[string]any{
		"name":        "Internal: preparation for the ministerial meeting (demo)",
		"description": "Demo data, internal to Mexico: the figures under discussion and the assessments to bring to the meeting of the foreign ministers.",
		"published":   "2026-01-14T10:00:00.000Z",
		"object_refs": []string{idRptMinisterial, idClaimDrop, idClaimHomicide},
	}})
}
