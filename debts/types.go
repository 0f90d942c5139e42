package debts

import "kasa/providers/finrota"

// DocumentType is a kind of document a debt stands for, as Finrota names
// it on the wire (Turkish) and in English.
type DocumentType struct {
	Wire, English string
}

// DocumentTypes are Finrota's document types in the contract's order, for
// a form to offer as choices.
var DocumentTypes = func() []DocumentType {
	ts := make([]DocumentType, 0, len(finrota.DocumentTypes))
	for _, t := range finrota.DocumentTypes {
		ts = append(ts, DocumentType{Wire: t.Wire, English: t.English})
	}
	return ts
}()

// LookupDocumentType finds a document type by its wire or English name.
func LookupDocumentType(s string) (DocumentType, bool) {
	t, ok := finrota.LookupDocumentType(s)
	return DocumentType{Wire: t.Wire, English: t.English}, ok
}

// FailMalformed is the error code of a Finrota answer that could not be
// read.
const FailMalformed = finrota.CodeMalformed
