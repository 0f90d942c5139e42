package i18n

// garanti holds the messages of its area of the product.
var garanti = map[string]Text{}
