"""The staff console: Django's admin site with the tenant scope opened at its edge.

`site` (the admin site and its scoped views), `scoping` (the building blocks every app's
ModelAdmin uses to stay inside the user's organizations), `transcript` and `stats` (what the
console shows of Lexi's work) and `views` (the console's own pages). The apps keep their
ModelAdmins; this is the layer above the channels.
"""
