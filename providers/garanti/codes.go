package garanti

// Codes is the bank's error catalogue: apiResponseCode → the English text of
// the seed document, with its placeholders written as <name>. The seed skips
// E002, E018–E019, E021, E030 and E034–E039; they are absent here too. The
// product's own Turkish/English explanations build on these keys.
var Codes = map[string]string{
	"E001": "ConsentID field length must be 36 characters!",
	"E003": "Error Max Character. Server was unable to process request : CustomerNum",
	"E004": "This field can not be empty : ProductID",
	"E005": "Error Max Character. Server was unable to process request : ProductID",
	"E006": "Missing request body AuthorityID for method parameter of type String",
	"E007": "Error Max Character. Server was unable to process request : AuthorityID",
	"E008": "Missing request body authorityFLAG for method parameter of type String",
	"E009": "Error authorityFLAG. authorityFLAG must be true",
	"E010": "Error authorityAttribute. If authorityAttributeName is null, authorityAttribute must be null",
	"E011": "Error authorityAttributeName. If authorityAttribute is null, authorityAttributeName must be null",
	"E012": "Error Max Character. Server was unable to process request : AuthorityAttributeName",
	"E013": "Error Max Character. Server was unable to process request : AuthorityAttribute",
	"E014": "Error Max Character. Server was unable to process request : ClientID",
	"E015": "Error Max Character. Server was unable to process request : ClientIDPortal",
	"E016": "Error Max Character. Server was unable to process request : TPPID",
	"E017": "Error Max Character. Server was unable to process request : TPPName",
	"E020": "Error Max Character. Server was unable to process request : FrequencyPerDay",
	"E022": "Error frequencyPerDay.If recurringIndicator is false, frequencyPerDay must be 1",
	"E023": "Error Valid Date. Server was unable to process request : validationDate",
	"E024": "Unrecognised Field : AuthorityFlag",
	"E025": "The same authorityId must only be sent once",
	"E026": "Unrecognised Field : authorityFLAG",
	"E027": "Unrecognised Field : authorityAttributeName",
	"E028": "Unrecognised Field : authorityAttribute",
	"E029": "This AuthorityID not found : <authorityID>",
	"E031": "Error ConsentID OR consentStatus OR authorityID OR authorityName! ConsentID :<consentID> Authority ID:<authorityID> AuthorityName:<authorityName>",
	"E032": "Error ConsentID OR ClientID! ConsentID :<consentID> ClientID: <clientID>",
	"E033": "Consent Status is not Waiting For Consent ID :<consentID> ClientID: <clientID>",
	"E040": "Error Valid Date. Server was unable to process request : tranEndDate",
	"E041": "Error valid date. Server was unable to process request (mount) : tranBeginDate",
	"E042": "tranEndDate can not be smaller than tranBeginDate!",
	"E043": "Validation Parameter is not found for AuthorityID : <authorityID>",
	"E044": "Validation date cannot be greater than \"X\" days from today's date",
	"E045": "Customer number cannot be empty",
	"E046": "Product id cannot be empty",
	"E047": "Only one product must be selected",
	"E048": "Start date cannot be greater than end date",
	"E049": "Date format is incorrect",
	"E050": "Date range cannot be longer than 1 year",
	"E051": "Date information entered incorrectly",
	"E052": "Customer has no consent for this product",
	"E053": "Authority request cannot be empty",
	"E054": "Invalid authority id",
	"E055": "Product has no authority",
	"E056": "Product has no authority for HgsTransactionInfo",
	"E057": "Product has no authority for HgsProductInfo",
	"E058": "HGS product list service call error",
	"E059": "HGS transaction list service call error",
	"E060": "HGS product list main service error",
	"E061": "HGS transaction list main service error",
}

// CodeText returns the catalogue text of code, or "" for a code the
// catalogue does not know.
func CodeText(code string) string { return Codes[code] }
