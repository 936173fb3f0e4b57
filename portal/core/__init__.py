"""Pure domain logic: no Flask, no database. Everything here is testable on its own."""
