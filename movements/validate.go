package movements

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// A Problem is what is wrong with one field, in no language: Code names
// the rule, Args are its figures (a length typed). Handlers turn it into a
// message.
type Problem struct {
	Code string
	Args []any
}

// Problems are the problems of an input, by field name.
type Problems map[string]Problem

// ValidationError is an input the area refused; Problems say why.
type ValidationError struct{ Problems Problems }

func (e *ValidationError) Error() string {
	fields := make([]string, 0, len(e.Problems))
	for f, p := range e.Problems {
		fields = append(fields, f+": "+p.Code)
	}
	slices.Sort(fields)
	return fmt.Sprintf("movements: invalid input (%s)", strings.Join(fields, ", "))
}

// The codes of an account's problems.
const (
	CodeNumberRequired = "number.required"
	CodeNumberDigits   = "number.digits"
	CodeNumberLength   = "number.length" // Args: the digits typed
	CodeNumberTaken    = "number.taken"
	CodeNameRequired   = "name.required"
	CodeNameLong       = "name.long"
	CodeCurrency       = "currency"
)

// maxAccountName is the longest account name, in characters.
const maxAccountName = 100

// BankCurrencies are the currencies a VakıfBank account may be registered in.
var BankCurrencies = []string{"TRY", "USD", "EUR"}

// ValidateAccount checks an account as an admin typed it and normalises
// it: the number is accepted as people copy it (with spaces or dashes) and
// becomes its 17 digits, the name is trimmed.
func ValidateAccount(n *NewBankAccount) Problems {
	p := Problems{}
	n.Name = strings.TrimSpace(n.Name)
	number, code, digits := normaliseAccountNumber(strings.TrimSpace(n.Number))
	switch code {
	case "":
		n.Number = number
	case CodeNumberLength:
		p["number"] = Problem{Code: code, Args: []any{digits}}
	default:
		p["number"] = Problem{Code: code}
	}
	switch {
	case n.Name == "":
		p["name"] = Problem{Code: CodeNameRequired}
	case utf8.RuneCountInString(n.Name) > maxAccountName:
		p["name"] = Problem{Code: CodeNameLong}
	}
	if !slices.Contains(BankCurrencies, n.Currency) {
		p["currency"] = Problem{Code: CodeCurrency}
	}
	return p
}

// normaliseAccountNumber returns the 17 digits of s, or the code of what is
// wrong with it and, for a wrong length, how many digits it has.
func normaliseAccountNumber(s string) (number, code string, digits int) {
	if s == "" {
		return "", CodeNumberRequired, 0
	}
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == ' ' || c == '-' || c == '\u00a0':
		default:
			return "", CodeNumberDigits, 0
		}
	}
	if n := b.Len(); n != 17 {
		return "", CodeNumberLength, n
	}
	return b.String(), "", 17
}
