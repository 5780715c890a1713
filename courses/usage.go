package courses

import (
	"context"
	"fmt"
)

// Usage is the instance's activity, as NodeInfo reports it.
type Usage struct {
	Users          int // local accounts
	ActiveMonth    int // active in the last 30 days
	ActiveHalfyear int // active in the last 180 days
	LocalPosts     int // live posts written on this instance
}

// Usage counts local users, how many were active (signed in) in the last
// 30 and 180 days, and the live posts written here.
func (s *Store) Usage(ctx context.Context) (Usage, error) {
	var u Usage
	err := s.pool.QueryRow(ctx, `
		SELECT count(*),
		       count(*) FILTER (WHERE last_active > now() - interval '30 days'),
		       count(*) FILTER (WHERE last_active > now() - interval '180 days')
		FROM users`).Scan(&u.Users, &u.ActiveMonth, &u.ActiveHalfyear)
	if err == nil {
		err = s.pool.QueryRow(ctx, `SELECT count(*) FROM posts WHERE local AND NOT deleted`).Scan(&u.LocalPosts)
	}
	if err != nil {
		return Usage{}, fmt.Errorf("usage: %w", err)
	}
	return u, nil
}
