"""CI helper: `ping` the local MariaDB, `create` a fresh test database (prints its URL), `drop URL`.

`drop` also removes the per-worker databases pytest-xdist runs make beside it (`<name>_gw0`, ...).
"""

import os
import re
import sys

import pymysql

HOST, PORT, USER = "127.0.0.1", 3306, "root"


def connect(database=None):
    return pymysql.connect(host=HOST, port=PORT, user=USER, password="", database=database, connect_timeout=3)


def main(action: str, url: str = "") -> None:
    if action == "ping":
        connect().close()
    elif action == "create":
        name = f"encounter_ci_{os.getpid()}"
        with connect() as conn, conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        print(f"mysql+pymysql://{USER}@{HOST}:{PORT}/{name}")
    elif action == "drop":
        name = url.rsplit("/", 1)[1]
        ours = re.compile(rf"{re.escape(name)}(_gw\d+)?")
        with connect() as conn, conn.cursor() as cursor:
            cursor.execute("SHOW DATABASES")
            for (database,) in cursor.fetchall():
                if ours.fullmatch(database):
                    cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")


if __name__ == "__main__":
    main(*sys.argv[1:])
