package i18n

// movements holds the messages of its area of the product.
var movements = map[string]Text{}
