package noticeboard

// CacheLen is the number of cached public responses (tests only).
func (m *Module) CacheLen() int { return m.cache.Len() }
