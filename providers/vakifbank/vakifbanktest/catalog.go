package vakifbanktest

import (
	"fmt"
	"time"
)

// The seed's vocabulary: counterparties, staff and the movement kinds of a
// Turkish trading company's accounts, with transaction codes in the style of
// the documentation's SNTSTHSLAT / EFTTHSBEFT / FYTSMSRFIPT.

var companies = []string{
	"ANADOLU GIDA SAN. VE TİC. A.Ş.", "EGE TEKSTİL LTD. ŞTİ.", "MARMARA LOJİSTİK A.Ş.",
	"KARADENİZ İNŞAAT LTD. ŞTİ.", "BOĞAZİÇİ YAZILIM A.Ş.", "TOROS KİMYA SAN. A.Ş.",
	"ÇUKUROVA TARIM ÜRÜNLERİ LTD. ŞTİ.", "KAPADOKYA TURİZM A.Ş.", "TRAKYA OTOMOTİV YEDEK PARÇA LTD. ŞTİ.",
	"GÜNEYDOĞU PLASTİK SAN. TİC. A.Ş.", "İZMİR AMBALAJ LTD. ŞTİ.", "BURSA MAKİNA SAN. A.Ş.",
	"KONYA UN FABRİKASI A.Ş.", "AKDENİZ SERACILIK LTD. ŞTİ.", "ÖZGÜR ELEKTRİK MALZ. TİC. LTD. ŞTİ.",
	"ŞAHİN NAKLİYAT LTD. ŞTİ.", "YILDIZ KIRTASİYE A.Ş.", "DOĞU MERMER SAN. A.Ş.",
}

var banks = []string{
	"T.C. ZİRAAT BANKASI", "TÜRKİYE GARANTİ BANKASI", "TÜRKİYE İŞ BANKASI", "YAPI VE KREDİ BANKASI",
	"AKBANK", "TÜRKİYE HALK BANKASI", "QNB BANK", "DENİZBANK",
}

var utilities = []string{
	"BOĞAZİÇİ ELEKTRİK DAĞITIM", "İSKİ SU", "İGDAŞ DOĞALGAZ", "TÜRK TELEKOM", "TURKCELL KURUMSAL",
}

var foreignCompanies = []string{
	"RHEIN MASCHINENBAU GMBH", "NORDIC TRADING AB", "GLOBAL PARTS LLC", "MEDITERRANEAN FOODS SRL",
	"LYON TEXTILES SAS", "ROTTERDAM SHIPPING BV",
}

var employees = []string{
	"AYŞE YILMAZ", "MEHMET KAYA", "FATMA DEMİR", "MUSTAFA ÇELİK", "EMİNE ŞAHİN", "AHMET YILDIZ",
	"HATİCE ÖZTÜRK", "ALİ AYDIN", "ZEYNEP ÖZDEMİR", "HÜSEYİN ARSLAN", "ELİF DOĞAN", "İBRAHİM KILIÇ",
}

var tryKinds = []kind{
	{in: true, code: "EFTGLNEFT", name: "Gelen EFT", min: 100_000, max: 35_000_000, weight: 30,
		descr: func(g *gen, at time.Time) string {
			return fmt.Sprintf("Gönderen: %s (%s) Açıklama: %s FATURA ÖDEMESİ", g.oneOf(companies), g.oneOf(banks), g.invoice(at))
		}},
	{in: true, code: "HVLGLNHVL", name: "Gelen havale", min: 50_000, max: 15_000_000, weight: 12,
		descr: func(g *gen, _ time.Time) string {
			return "Gönderen: " + g.oneOf(companies) + " Açıklama: CARİ HESAP ÖDEMESİ"
		}},
	{in: true, code: "POSBLKCOZ", name: "POS satış tutarı", min: 5_000, max: 2_500_000, weight: 25,
		descr: func(g *gen, _ time.Time) string {
			return fmt.Sprintf("POS SATIŞ GÜN SONU ÜYE İŞYERİ NO %09d", 100_000_000+g.rng.IntN(90_000))
		}},
	{in: true, code: "SNTSTHSLAT", name: "Senet tahsilatı", min: 200_000, max: 12_000_000, weight: 6,
		descr: func(g *gen, at time.Time) string {
			return fmt.Sprintf("Borçlu: %s Senet No: %06d Vade: %s", g.oneOf(companies), g.rng.IntN(1_000_000), at.Format("02.01.2006"))
		}},
	{in: true, code: "CEKTHSLAT", name: "Çek tahsilatı", min: 500_000, max: 25_000_000, weight: 5,
		descr: func(g *gen, _ time.Time) string {
			return fmt.Sprintf("Çek No: %07d Keşideci: %s", g.rng.IntN(10_000_000), g.oneOf(companies))
		}},
	{in: true, code: "FYTSMSRFIPT", name: "Masraf Tahsilat İptali", min: 500, max: 7_500, weight: 1,
		descr: func(*gen, time.Time) string { return "MASRAF VE KOMİSYON TUTARI İADESİ" }},
	{code: "EFTTHSBEFT", name: "Hesaba giden EFT", min: 100_000, max: 30_000_000, weight: 30, fee: true,
		descr: func(g *gen, at time.Time) string {
			return fmt.Sprintf("EFT Alıcı: %s (%s) Açıklama: %s FATURA ÖDEMESİ", g.oneOf(companies), g.oneOf(banks), g.invoice(at))
		}},
	{code: "HVLGDNHVL", name: "Giden havale", min: 50_000, max: 10_000_000, weight: 12, fee: true,
		descr: func(g *gen, _ time.Time) string {
			return "Havale Alıcı: " + g.oneOf(companies) + " Açıklama: CARİ HESAP ÖDEMESİ"
		}},
	{code: "FTRODEME", name: "Fatura ödemesi", min: 20_000, max: 4_000_000, weight: 8,
		descr: func(g *gen, _ time.Time) string {
			return fmt.Sprintf("%s FATURA ÖDEMESİ ABONE NO %08d", g.oneOf(utilities), g.rng.IntN(100_000_000))
		}},
	{code: "KKBORCODM", name: "Kredi kartı ödemesi", min: 100_000, max: 6_000_000, weight: 4,
		descr: func(g *gen, _ time.Time) string {
			return fmt.Sprintf("KURUMSAL KREDİ KARTI ÖDEMESİ 5400 **** **** %04d", g.rng.IntN(10_000))
		}},
	{code: "KRDTKSODM", name: "Kredi taksit ödemesi", min: 2_000_000, max: 9_000_000, weight: 2,
		descr: func(g *gen, _ time.Time) string {
			return fmt.Sprintf("TİCARİ KREDİ TAKSİT ÖDEMESİ KREDİ NO %010d", g.rng.IntN(1_000_000_000))
		}},
	{code: "FYTSMSRF", name: "Masraf tahsilatı", min: 500, max: 40_000, weight: 5,
		descr: func(g *gen, _ time.Time) string {
			return "MASRAF VE KOMİSYON TUTARI " + g.oneOf([]string{"POS KOMİSYONU", "HAVALE MASRAFI", "ÇEK KARNESİ ÜCRETİ", "BSMV"})
		}},
}

var fxKinds = []kind{
	{in: true, code: "SWFTGLN", name: "Gelen SWIFT", min: 50_000, max: 8_000_000, weight: 5,
		descr: func(g *gen, at time.Time) string {
			return "Gönderen: " + g.oneOf(foreignCompanies) + " Açıklama: INVOICE " + g.invoice(at) + " PAYMENT"
		}},
	{in: true, code: "DVZALS", name: "Döviz alış", min: 100_000, max: 5_000_000, weight: 3,
		descr: func(*gen, time.Time) string { return "VADESİZ TL HESAPTAN DÖVİZ ALIŞ" }},
	{code: "SWFTGDN", name: "Giden SWIFT", min: 50_000, max: 6_000_000, weight: 5, fee: true,
		descr: func(g *gen, at time.Time) string {
			return "Alıcı: " + g.oneOf(foreignCompanies) + " Açıklama: INVOICE " + g.invoice(at)
		}},
	{code: "DVZSTS", name: "Döviz satış", min: 100_000, max: 4_000_000, weight: 3,
		descr: func(*gen, time.Time) string { return "DÖVİZ SATIŞ VADESİZ TL HESABA" }},
}

// sandboxProfiles are the seeded accounts: a busy TRY account (tens of
// thousands of movements in three years), quieter USD and EUR accounts, and
// another customer's account for ACBH000104.
func sandboxProfiles() []profile {
	return []profile{
		{Account: Account{Number: SandboxAccountTRY, Currency: "TL", Owner: SandboxCustomer},
			opening: 185_000_000, target: 300_000_000, weekday: [2]int{25, 55}, saturday: [2]int{0, 6},
			kinds: tryKinds, payroll: true, inflate: true, feeName: "Masraf tahsilatı",
			feeFmt: "MASRAF VE KOMİSYON TUTARI EFT MASRAFI", feeMin: 850, feeMax: 4_500},
		{Account: Account{Number: SandboxAccountUSD, Currency: "USD", Owner: SandboxCustomer},
			opening: 4_250_000, target: 6_000_000, weekday: [2]int{0, 3}, saturday: [2]int{0, 0},
			kinds: fxKinds, feeName: "SWIFT masrafı",
			feeFmt: "MASRAF VE KOMİSYON TUTARI SWIFT MASRAFI", feeMin: 2_500, feeMax: 7_500},
		{Account: Account{Number: SandboxAccountEUR, Currency: "EUR", Owner: SandboxCustomer},
			opening: 2_800_000, target: 4_000_000, weekday: [2]int{0, 2}, saturday: [2]int{0, 0},
			kinds: fxKinds, feeName: "SWIFT masrafı",
			feeFmt: "MASRAF VE KOMİSYON TUTARI SWIFT MASRAFI", feeMin: 2_500, feeMax: 7_500},
		{Account: Account{Number: OtherAccount, Currency: "TL", Owner: OtherCustomer},
			opening: 12_000_000, target: 15_000_000, weekday: [2]int{1, 4}, saturday: [2]int{0, 1},
			kinds: tryKinds, inflate: true, feeName: "Masraf tahsilatı",
			feeFmt: "MASRAF VE KOMİSYON TUTARI EFT MASRAFI", feeMin: 850, feeMax: 4_500},
	}
}
