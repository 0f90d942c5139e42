package garantitest

import (
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"
)

// Sandbox login credentials for the seeded customers. Every seeded customer
// uses SandboxPassword and SandboxOTP; SandboxCustomerNo is the first one.
const (
	SandboxCustomerNo = "12345678"
	SandboxPassword   = "Garanti123"
	SandboxOTP        = "123456"
)

// Customer is a seeded bank customer who can log in on the fake's page.
type Customer struct {
	CustomerNo string
	Name       string
	Password   string
	OTP        string
}

// Product is one HGS tag as the fake keeps it.
type Product struct {
	ProductID         string
	CustomerNo        string
	VehicleClassID    string
	Plate             string
	AccountUnitNum    int64
	AccountNum        int64  // 0 when the tag is tied to a credit card
	CardNumber        string // masked; "" when tied to an account
	Email             string
	AutoPaymentAmount decimal.Decimal
	MinPaymentAmount  decimal.Decimal
	MobilePhone       int64
	Balance           decimal.Decimal
	Status            string // statuText20: AKTIF, PASIF, IPTAL
}

// Transaction is one HGS passage (debit, "B") or balance top-up (credit,
// "A"). Top-ups have no departure time or motorways.
type Transaction struct {
	ProductID         string
	Amount            decimal.Decimal
	DebitCreditInd    string // B = borç (debit, passage), A = alacak (credit, top-up)
	EntranceTS        time.Time
	DepartureTS       time.Time // zero for top-ups
	EntranceMotorway  string
	DepartureMotorway string
	Explanation       string
}

type customer = Customer
type product = Product
type txn = Transaction

// route is a toll point or motorway stretch with class 1–5 tariffs (TRY, at
// this year's prices) and the usual travel time.
type route struct {
	entrance, departure, explanation string
	tariff                           [5]string
	minutes                          int
	heavyOK                          bool // classes 3–5 may use it
}

var routes = []route{
	{"Avrasya Tüneli", "Avrasya Tüneli", "AVRASYA TUNELI GECIS", [5]string{"280.00", "420.00", "", "", ""}, 8, false},
	{"Osmangazi Köprüsü", "Osmangazi Köprüsü", "OSMANGAZI KOPRUSU GECIS", [5]string{"995.00", "1590.00", "1890.00", "2510.00", "3165.00"}, 6, true},
	{"Yavuz Sultan Selim Köprüsü", "Yavuz Sultan Selim Köprüsü", "YAVUZ SULTAN SELIM KOPRUSU GECIS", [5]string{"95.00", "125.00", "235.00", "595.00", "740.00"}, 4, true},
	{"15 Temmuz Şehitler Köprüsü", "15 Temmuz Şehitler Köprüsü", "15 TEMMUZ SEHITLER KOPRUSU GECIS", [5]string{"59.00", "76.00", "", "", ""}, 5, false},
	{"Fatih Sultan Mehmet Köprüsü", "Fatih Sultan Mehmet Köprüsü", "FSM KOPRUSU GECIS", [5]string{"59.00", "76.00", "166.00", "345.00", "430.00"}, 5, true},
	{"Kuzey Marmara Otoyolu - Çamlıca", "Kuzey Marmara Otoyolu - Kurtköy", "KUZEY MARMARA OTOYOLU GECIS", [5]string{"62.50", "81.25", "118.75", "268.75", "332.50"}, 22, true},
	{"Anadolu Otoyolu - Gebze", "Anadolu Otoyolu - İzmit", "ANADOLU OTOYOLU GECIS", [5]string{"48.00", "56.00", "104.00", "202.00", "242.00"}, 35, true},
	{"Avrupa Otoyolu - Mahmutbey", "Avrupa Otoyolu - Silivri", "AVRUPA OTOYOLU GECIS", [5]string{"41.00", "47.00", "88.00", "171.00", "205.00"}, 40, true},
	{"Kuzey Marmara Otoyolu - Kurtköy", "Kuzey Marmara Otoyolu - Çamlıca", "KUZEY MARMARA OTOYOLU GECIS", [5]string{"62.50", "81.25", "118.75", "268.75", "332.50"}, 22, true},
}

type seedProduct struct {
	Product
	trips    float64 // mean passages per working day
	cancelAt int     // days before now when the tag stopped (IPTAL); 0 = never
}

func seedCustomers() ([]*customer, []seedProduct) {
	d := decimal.RequireFromString
	customers := []*customer{
		{CustomerNo: SandboxCustomerNo, Name: "Ayşe Yılmaz", Password: SandboxPassword, OTP: SandboxOTP},
		{CustomerNo: "23456789", Name: "Demir Lojistik A.Ş.", Password: SandboxPassword, OTP: SandboxOTP},
		{CustomerNo: "34567890", Name: "Zeynep Kaya", Password: SandboxPassword, OTP: SandboxOTP},
	}
	products := []seedProduct{
		{Product{ProductID: "7001000101", CustomerNo: "12345678", VehicleClassID: "1", Plate: "34 ABC 123", AccountUnitNum: 401, AccountNum: 6298123, Email: "ayse.yilmaz@example.com.tr", AutoPaymentAmount: d("500.00"), MinPaymentAmount: d("100.00"), MobilePhone: 905321234567, Status: "AKTIF"}, 1.6, 0},
		{Product{ProductID: "7001000102", CustomerNo: "12345678", VehicleClassID: "2", Plate: "34 KLM 4521", AccountUnitNum: 401, CardNumber: "540061******4417", Email: "ayse.yilmaz@example.com.tr", AutoPaymentAmount: d("750.00"), MinPaymentAmount: d("150.00"), MobilePhone: 905321234567, Status: "AKTIF"}, 0.9, 0},
		{Product{ProductID: "7001000103", CustomerNo: "12345678", VehicleClassID: "1", Plate: "06 YZ 9087", AccountUnitNum: 401, AccountNum: 6298123, Email: "ayse.yilmaz@example.com.tr", AutoPaymentAmount: d("300.00"), MinPaymentAmount: d("75.00"), MobilePhone: 905321234567, Status: "IPTAL"}, 0.5, 120},
		{Product{ProductID: "7002000201", CustomerNo: "23456789", VehicleClassID: "4", Plate: "41 DL 3344", AccountUnitNum: 1187, AccountNum: 9911002, Email: "muhasebe@demirlojistik.com.tr", AutoPaymentAmount: d("5000.00"), MinPaymentAmount: d("1000.00"), MobilePhone: 905339876543, Status: "AKTIF"}, 2.2, 0},
		{Product{ProductID: "7002000202", CustomerNo: "23456789", VehicleClassID: "5", Plate: "41 DL 3345", AccountUnitNum: 1187, AccountNum: 9911002, Email: "muhasebe@demirlojistik.com.tr", AutoPaymentAmount: d("6000.00"), MinPaymentAmount: d("1500.00"), MobilePhone: 905339876543, Status: "AKTIF"}, 2.0, 0},
		{Product{ProductID: "7002000203", CustomerNo: "23456789", VehicleClassID: "3", Plate: "34 DMR 77", AccountUnitNum: 1187, CardNumber: "552879******0192", Email: "muhasebe@demirlojistik.com.tr", AutoPaymentAmount: d("2500.00"), MinPaymentAmount: d("500.00"), MobilePhone: 905339876543, Status: "AKTIF"}, 1.4, 0},
		{Product{ProductID: "7002000204", CustomerNo: "23456789", VehicleClassID: "2", Plate: "16 BRS 204", AccountUnitNum: 1187, AccountNum: 9911002, Email: "muhasebe@demirlojistik.com.tr", AutoPaymentAmount: d("1000.00"), MinPaymentAmount: d("200.00"), MobilePhone: 905339876543, Status: "PASIF"}, 0.7, 0},
		{Product{ProductID: "7003000301", CustomerNo: "34567890", VehicleClassID: "1", Plate: "35 ZK 1907", AccountUnitNum: 512, AccountNum: 7730455, Email: "zeynep.kaya@example.com.tr", AutoPaymentAmount: d("400.00"), MinPaymentAmount: d("100.00"), MobilePhone: 905051112233, Status: "AKTIF"}, 1.1, 0},
		{Product{ProductID: "7003000302", CustomerNo: "34567890", VehicleClassID: "1", Plate: "34 ZEY 58", AccountUnitNum: 512, CardNumber: "979206******7781", Email: "zeynep.kaya@example.com.tr", AutoPaymentAmount: d("400.00"), MinPaymentAmount: d("100.00"), MobilePhone: 905051112233, Status: "AKTIF"}, 0.6, 0},
	}
	return customers, products
}

// seed installs customers and tags, and with Options.Seed two years of
// history. Each (tag, day) draws from its own generator, so the past stays
// the same across restarts and only the newest day grows.
func (s *Server) seed() {
	customers, products := seedCustomers()
	s.customers = customers
	now := s.now()
	for i := range products {
		sp := products[i]
		p := sp.Product
		opening := p.AutoPaymentAmount.Mul(decimal.NewFromInt(2))
		p.Balance = opening
		if s.opts.Seed {
			s.txns[p.ProductID], p.Balance = s.history(sp, opening, now)
		}
		s.products[p.ProductID] = &p
	}
}

func (s *Server) history(sp seedProduct, balance decimal.Decimal, now time.Time) ([]txn, decimal.Decimal) {
	class := int(sp.VehicleClassID[0] - '0')
	first := day(now).AddDate(-2, 0, 0)
	last := day(now)
	if sp.cancelAt > 0 {
		last = last.AddDate(0, 0, -sp.cancelAt)
	}
	var out []txn
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		rng := s.dayRand(sp.ProductID, d)
		trips := sp.trips
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			trips /= 2
		}
		n := int(trips)
		if rng.Float64() < trips-float64(n) {
			n++
		}
		minute := 6*60 + rng.IntN(120)
		for i := 0; i < n; i++ {
			r := pickRoute(rng, class)
			enter := d.Add(time.Duration(minute) * time.Minute).Add(time.Duration(rng.IntN(60)) * time.Second)
			leave := enter.Add(time.Duration(r.minutes+rng.IntN(r.minutes/2+1)) * time.Minute)
			minute += r.minutes + 60 + rng.IntN(300)
			if leave.After(now) {
				break
			}
			amount := tariff(r, class, d.Year(), now.Year())
			out = append(out, txn{ProductID: sp.ProductID, Amount: amount, DebitCreditInd: "B",
				EntranceTS: enter, DepartureTS: leave, EntranceMotorway: r.entrance, DepartureMotorway: r.departure,
				Explanation: r.explanation})
			balance = balance.Sub(amount)
			if balance.LessThan(sp.MinPaymentAmount) {
				// Automatic top-up from the linked account or card a
				// minute after the passage that crossed the minimum.
				balance = balance.Add(sp.AutoPaymentAmount)
				out = append(out, txn{ProductID: sp.ProductID, Amount: sp.AutoPaymentAmount, DebitCreditInd: "A",
					EntranceTS: leave.Add(time.Minute), Explanation: "OTOMATIK BAKIYE YUKLEME"})
			}
		}
		// Now and then the customer tops up by hand at a branch or ATM.
		if rng.IntN(45) == 0 {
			at := d.Add(time.Duration(12*60+rng.IntN(360)) * time.Minute)
			if at.Before(now) {
				amt := sp.AutoPaymentAmount.Div(decimal.NewFromInt(2)).Round(0)
				balance = balance.Add(amt)
				out = append(out, txn{ProductID: sp.ProductID, Amount: amt, DebitCreditInd: "A", EntranceTS: at, Explanation: "BAKIYE YUKLEME"})
			}
		}
	}
	sortTxns(out, false)
	return out, balance
}

func (s *Server) dayRand(productID string, d time.Time) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(productID))
	h.Write([]byte(d.Format(dateLayout)))
	return rand.New(rand.NewPCG(s.opts.RandSeed, h.Sum64()))
}

func pickRoute(rng *rand.Rand, class int) route {
	for {
		r := routes[rng.IntN(len(routes))]
		if r.tariff[class-1] != "" && (class < 3 || r.heavyOK) {
			return r
		}
	}
}

// tariff returns the class's toll for a passage in year y: tolls rise every
// January, so older passages cost less.
func tariff(r route, class, y, thisYear int) decimal.Decimal {
	amount := decimal.RequireFromString(r.tariff[class-1])
	for i := y; i < thisYear; i++ {
		amount = amount.Mul(decimal.RequireFromString("0.70"))
	}
	return amount.Round(2)
}
