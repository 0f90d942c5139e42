package finrotatest

import (
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"kasa/tz"
)

var seedAgents = []Agent{
	{Code: "NT26822394", Name: "Marmara Oto Yedek Parça Bayi", Active: true},
	{Name: "Ege Yapı Market", Active: true},
	{Name: "Anadolu Tarım Ürünleri", Active: true},
	{Name: "Karadeniz Gıda Dağıtım", Active: true},
	{Name: "Başkent Elektrik Malzemeleri", Active: true},
	{Name: "Akdeniz Tekstil Bayi", Active: false},
	{Name: "Trakya Hırdavat", Active: true},
	{Name: "Doğu Lojistik Hizmetleri", Active: false},
}

var seedAccounts = []CurrentAccount{
	{ErpCode: "441B3BF1-8F5F-4CCD-A116-7CD90D3E4C04", Name: "Yıldız Tekstil San. ve Tic. A.Ş.", Email: "muhasebe@yildiztekstil.com.tr", Active: true},
	{Name: "Özkan Gıda Ltd. Şti.", Email: "finans@ozkangida.com.tr", Active: true},
	{Name: "Çelik Yapı İnşaat A.Ş.", Email: "muhasebe@celikyapi.com.tr", Active: true},
	{Name: "Güneş Enerji Sistemleri Ltd. Şti.", Email: "cari@gunesenerji.com.tr", Active: true},
	{Name: "Kaya Otomotiv Tic. A.Ş.", Email: "muhasebe@kayaotomotiv.com.tr", Active: true},
	{Name: "Demir Lojistik ve Taşımacılık A.Ş.", Email: "finans@demirlojistik.com.tr", Active: true},
	{Name: "Aydın Mobilya San. Ltd. Şti.", Email: "muhasebe@aydinmobilya.com.tr", Active: true},
	{Name: "Şahin Kuruyemiş Gıda Tic.", Email: "info@sahinkuruyemis.com.tr", Active: true},
	{Name: "Er Plastik Ambalaj San. A.Ş.", Email: "muhasebe@erplastik.com.tr", Active: true},
	{Name: "Polat Kırtasiye ve Ofis Ürünleri", Email: "cari@polatkirtasiye.com.tr", Active: true},
	{Name: "Koç Tarım Makinaları Ltd. Şti.", Email: "finans@koctarim.com.tr", Active: true},
	{Name: "Arslan Medikal Cihazlar A.Ş.", Email: "muhasebe@arslanmedikal.com.tr", Active: true},
	{Name: "Doğan Elektronik Tic. Ltd. Şti.", Email: "muhasebe@doganelektronik.com.tr", Active: true},
	{Name: "Kılıç Hırdavat ve Nalbur", Email: "kilichirdavat@gmail.com", Active: true},
	{Name: "Öztürk Kimya San. ve Tic. A.Ş.", Email: "finans@ozturkkimya.com.tr", Active: true},
	{Name: "Bulut Bilişim Teknolojileri A.Ş.", Email: "muhasebe@bulutbilisim.com.tr", Active: true},
	{Name: "Yılmaz Süt Ürünleri Ltd. Şti.", Email: "cari@yilmazsut.com.tr", Active: true},
	{Name: "Erdem Cam ve Doğrama San.", Email: "muhasebe@erdemcam.com.tr", Active: false},
	{Name: "Karaca Turizm ve Otelcilik A.Ş.", Email: "finans@karacaturizm.com.tr", Active: true},
	{Name: "Aksoy Ayakkabı İmalat Ltd. Şti.", Email: "muhasebe@aksoyayakkabi.com.tr", Active: false},
}

var (
	trMonths = []string{"Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık"}
	trBanks  = []string{"Ziraat Bankası", "Garanti BBVA", "İş Bankası", "Akbank", "VakıfBank", "Yapı Kredi", "Halkbank"}
	// seedTypeWeights skews the sample towards invoices, as in real books.
	seedTypeWeights = []int{15, 12, 6, 5, 38, 10, 6, 4, 4}
	seedTerms       = []int{0, 15, 30, 30, 45, 60, 60, 90, 120}
)

// seed loads deterministic sample data, dated relative to the fake's clock
// so that some debts are always overdue whenever the sandbox starts.
func (s *Server) seed() {
	for _, a := range seedAgents {
		if a.Code == "" {
			a.Code = fmt.Sprintf("NT%08d", 10_000_000+s.rng.IntN(90_000_000))
		}
		s.agents[a.Code] = &a
		s.agentOrder = append(s.agentOrder, a.Code)
	}
	for _, a := range seedAccounts {
		if a.ErpCode == "" {
			a.ErpCode = s.newIDUpperLocked()
		}
		s.accounts[a.ErpCode] = &a
		s.accountOrder = append(s.accountOrder, a.ErpCode)
	}
	now := s.now()
	y, m, d := now.In(tz.Istanbul).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, tz.Istanbul)
	for i := range 300 {
		s.debts = append(s.debts, s.seedDebt(i, now, today))
	}
	sort.SliceStable(s.debts, func(i, j int) bool { return s.debts[i].CreatedAt.Before(s.debts[j].CreatedAt) })
	for _, d := range s.debts {
		s.used[d.ErpCode] = d.ID
	}
}

func (s *Server) seedDebt(i int, now, today time.Time) *Debt {
	r := s.rng
	agent := s.agentOrder[r.IntN(len(s.agentOrder))]
	account := s.accountOrder[r.IntN(len(s.accountOrder))]
	typ := weighted(r.IntN(100), seedTypeWeights)
	txn := today.AddDate(0, 0, -r.IntN(240))
	due := txn.AddDate(0, 0, seedTerms[r.IntN(len(seedTerms))])
	amount := decimal.New(int64(500_00+r.IntN(250_000_00)), -2)
	currency := "TRY"
	switch c := r.IntN(100); {
	case c < 12:
		currency = "USD"
	case c < 20:
		currency = "EUR"
	}
	paid := decimal.Zero
	switch p := r.IntN(10); {
	case p >= 8:
		paid = amount
	case p >= 6:
		paid = amount.Mul(decimal.New(int64(5+r.IntN(90)), -2)).Round(2)
	}
	created := txn.Add(9*time.Hour + time.Duration(r.IntN(540))*time.Minute + time.Duration(r.IntN(60_000))*time.Millisecond)
	if created.After(now) {
		created = now.Add(-time.Duration(1+r.IntN(3600)) * time.Second)
	}
	docNo, desc := seedDocument(s, typ, txn)
	return &Debt{
		ID:                    s.seedIDLocked(),
		ErpCode:               fmt.Sprintf("CAT-%d-%06d", txn.Year(), i+1),
		AgentErpCode:          agent,
		CurrentAccountErpCode: account,
		Amount:                amount,
		PaidAmount:            paid,
		DocumentNo:            docNo,
		DocumentType:          documentTypes[typ][0],
		DueDate:               due.Format(time.DateOnly),
		TransactionDate:       txn.Format(time.DateOnly),
		CurrencyID:            currency,
		Description:           desc,
		IsActive:              i%97 != 96, // a few soft-deleted records
		CreatedAt:             created,
		UpdatedAt:             created,
	}
}

// seedDocument makes a document number and description in the style of
// each document type.
func seedDocument(s *Server, typ int, txn time.Time) (string, string) {
	r, year := s.rng, txn.Year()
	seq := 1 + r.IntN(99_999)
	switch documentTypes[typ][0] {
	case "Senet":
		return fmt.Sprintf("SN-%d/%04d", year, seq%10_000), fmt.Sprintf("Vadeli satış senedi, %d. taksit", 1+r.IntN(12))
	case "Çek":
		return fmt.Sprintf("ÇEK-%07d", r.IntN(10_000_000)), trBanks[r.IntN(len(trBanks))] + " çeki"
	case "Kredi Kartı":
		return fmt.Sprintf("KK-%d-%06d", year, seq), "Sanal POS tahsilat farkı"
	case "Borç dekont":
		return fmt.Sprintf("BD%d%05d", year, seq), "Fiyat farkı borç dekontu"
	case "Fatura":
		return fmt.Sprintf("MRT%d%09d", year, seq), trMonths[txn.Month()-1] + " ayı mal alım faturası"
	case "Havale":
		return fmt.Sprintf("HVL%d%06d", year, seq), "EFT ile gelen ödeme eksiği"
	case "Sipariş":
		return fmt.Sprintf("SIP-%d-%05d", year, seq), "Sipariş avansı"
	case "Devir":
		return fmt.Sprintf("DEVIR-%d-%04d", year, seq%10_000), fmt.Sprintf("%d yılından devreden bakiye", year-1)
	default:
		return fmt.Sprintf("VRM-%06d", seq), "Cari hesaplar arası virman"
	}
}

func weighted(n int, weights []int) int {
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// newIDUpperLocked makes a GUID in the upper-case form the portal shows
// for current accounts.
func (s *Server) newIDUpperLocked() string {
	id := s.seedIDLocked()
	out := []byte(id)
	for i, c := range out {
		if c >= 'a' && c <= 'f' {
			out[i] = c - 'a' + 'A'
		}
	}
	return string(out)
}
