"""The field app's server side: the sync protocol, encounters, outings, and what the phone
keeps offline (bootstrap). Everything a worker does in the street arrives through here."""
