package fakeorg

import (
	"strconv"
	"strings"
)

// The tables are constants parsed per generator, so that the package holds
// no mutable state.

const firstNamesText = `
James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth
William Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen
Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark Ashley
Donald Kimberly Steven Emily Andrew Donna Paul Michelle Joshua Carol
Kenneth Amanda Kevin Melissa Brian Deborah George Stephanie Timothy Rebecca
Ronald Laura Jason Sharon Edward Cynthia Jeffrey Kathleen Ryan Amy
Jacob Angela Gary Shirley Nicholas Anna Eric Brenda Jonathan Pamela
Priya Arjun Ananya Rahul Mei Wei Hiroshi Yuki Sakura Kenji
Lukas Anna-Lena Jürgen Sophie Élodie Mathieu Chloé Hugo Lars Ingrid
Mateo Sofía Lucía Diego João Beatriz Aisha Omar Fatima Kwame
`

const lastNamesText = `
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez
Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin
Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson
Walker Young Allen King Wright Scott Torres Nguyen Hill Flores
Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts
Patel Sharma Iyer Chen Wang Li Tanaka Suzuki Sato Nakamura
Müller Schmidt Schneider Fischer Weber Dubois Lefèvre Moreau Laurent Girard
Jansen Meijer Bakker Visser Andersson Johansson Nielsen Kowalski Nowak Novak
Silva Santos Oliveira Costa Pereira Okafor Mensah Haddad Nasser Kaya
O'Brien Murphy Kelly Walsh Byrne Ryan Doyle McCarthy Fraser Campbell-Ross
`

// officesText: country|city|state|postal code|phone prefix|language|weight|streets
const officesText = `
US|Redmond|WA|98052|+1 425|en-US|30|Microsoft Way;NE 36th Street;148th Avenue NE
US|New York|NY|10001|+1 212|en-US|12|Avenue of the Americas;West 34th Street;Broadway
US|Austin|TX|78701|+1 512|en-US|8|Congress Avenue;Lavaca Street;West 6th Street
GB|London|Greater London|EC1A 1BB|+44 20|en-GB|10|Aldersgate Street;Cheapside;Moorgate
DE|München|Bayern|80331|+49 89|de-DE|7|Marienplatz;Kaufingerstraße;Sendlinger Straße
FR|Paris|Île-de-France|75001|+33 1|fr-FR|6|Rue de Rivoli;Rue Saint-Honoré;Avenue de l'Opéra
IN|Bengaluru|Karnataka|560001|+91 80|en-IN|9|MG Road;Residency Road;Brigade Road
JP|Tokyo|Tokyo|100-0005|+81 3|ja-JP|5|Marunouchi;Otemachi;Yurakucho
CA|Toronto|ON|M5H 2N2|+1 416|en-CA|5|King Street West;Bay Street;Queen Street West
AU|Sydney|NSW|2000|+61 2|en-AU|4|George Street;Pitt Street;Market Street
NL|Amsterdam|Noord-Holland|1012 AB|+31 20|nl-NL|3|Damrak;Rokin;Kalverstraat
BR|São Paulo|SP|01310-100|+55 11|pt-BR|3|Avenida Paulista;Rua Augusta;Rua Oscar Freire
`

// departmentsText: name|number|weight|head title|manager title|roles
const departmentsText = `
Engineering|1100|6|VP Engineering|Engineering Manager|Software Engineer;Senior Software Engineer;Site Reliability Engineer;QA Engineer
Sales|1200|4|VP Sales|Sales Manager|Account Executive;Sales Development Representative;Solutions Consultant
Customer Support|1300|3|VP Customer Support|Support Manager|Support Engineer;Customer Success Manager
Marketing|1400|2|VP Marketing|Marketing Manager|Marketing Specialist;Content Strategist;Product Marketing Manager
Product|1500|2|VP Product|Product Lead|Product Manager;UX Designer
Finance|1600|2|Chief Financial Officer|Finance Manager|Financial Analyst;Accountant
IT|1700|2|Chief Information Officer|IT Manager|Systems Administrator;Service Desk Analyst;Security Analyst
Operations|1800|2|Chief Operating Officer|Operations Manager|Operations Analyst;Facilities Coordinator;Procurement Specialist
Human Resources|1900|1|Chief People Officer|HR Manager|HR Business Partner;Recruiter
Legal|2000|1|General Counsel|Legal Manager|Corporate Counsel;Paralegal
Research|2100|1|VP Research|Research Lead|Research Scientist;Data Scientist
`

// projectsText names the project groups; more are numbered.
const projectsText = `Phoenix Atlas Orion Horizon Nimbus Aurora Zephyr Titan Vega Apollo`

type office struct {
	country, city, state, postal, phone, lang string
	weight                                    int
	streets                                   []string
}

type department struct {
	name, number, head, manager string
	weight                      int
	roles                       []string
}

type tables struct {
	first, last []string
	offices     []office
	officeTotal int
	depts       []department
	projects    []string
	// fold maps the accented letters of the name tables to ASCII for uids
	// and mail addresses, which Entra ID wants in plain ASCII.
	fold *strings.Replacer
}

func newTables() *tables {
	t := &tables{
		first:    strings.Fields(firstNamesText),
		last:     strings.Fields(lastNamesText),
		projects: strings.Fields(projectsText),
		fold: strings.NewReplacer(
			"ü", "ue", "ö", "oe", "ä", "ae", "ß", "ss",
			"é", "e", "è", "e", "ê", "e", "É", "E",
			"á", "a", "ã", "a", "í", "i", "ó", "o", "ô", "o", "ç", "c",
			"'", "", " ", "",
		),
	}
	for _, line := range lines(officesText) {
		f := strings.Split(line, "|")
		w, _ := strconv.Atoi(f[6])
		t.offices = append(t.offices, office{
			country: f[0], city: f[1], state: f[2], postal: f[3], phone: f[4], lang: f[5],
			weight: w, streets: strings.Split(f[7], ";"),
		})
		t.officeTotal += w
	}
	for _, line := range lines(departmentsText) {
		f := strings.Split(line, "|")
		w, _ := strconv.Atoi(f[2])
		t.depts = append(t.depts, department{
			name: f[0], number: f[1], weight: w, head: f[3], manager: f[4],
			roles: strings.Split(f[5], ";"),
		})
	}
	return t
}

func lines(text string) []string {
	var out []string
	for l := range strings.SplitSeq(strings.TrimSpace(text), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
