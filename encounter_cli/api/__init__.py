"""The HTTP API (README: HTTP API): a second thin front end over `encounter_cli.services`.

Installed with the `api` extra. Routes pull plain values out of the request,
call one service inside one `Database.run` transaction and render the record
as `-o json` does; errors map through `errors.STATUSES`, as exit codes do.
"""
