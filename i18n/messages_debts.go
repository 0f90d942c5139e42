package i18n

// debts holds the messages of its area of the product.
var debts = map[string]Text{}
