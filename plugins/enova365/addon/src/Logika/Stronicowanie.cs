// Filters and keyset paging of PobierzZamowienia: the feed by (Zmieniono, ID), the listing by ID.
using System;
using System.Collections.Generic;
using System.Linq;

namespace OrderLink.Enova365.Logika
{
    /// <summary>Which documents a query matches and in what order they come.</summary>
    public static class Stronicowanie
    {
        /// <summary>Whether a document passes the query's filters and lies after its position.</summary>
        public static bool Pasuje(Zapytanie q, DokumentZO d)
        {
            if (q.ZmienioneOd.HasValue)
            {
                var t = d.CzasZmiany;
                var od = Czas.DoSekundy(q.ZmienioneOd.Value);
                if (t < od || (t == od && d.ID <= q.PoID)) return false;
            }
            else if (d.ID <= q.PoID)
            {
                return false;
            }
            if (q.ObcyNumery != null && !q.ObcyNumery.Contains((d.ObcyNumer ?? "").Trim())) return false;
            if (q.UtworzoneOd.HasValue)
            {
                DateTime data;
                if (!Czas.TryParseDate(d.Data, out data) || data < q.UtworzoneOd.Value.Date) return false;
            }
            if (q.TylkoNiezrealizowane && d.Zrealizowane) return false;
            if (q.PominOperatora != null && string.Equals((d.Operator ?? "").Trim(), q.PominOperatora, StringComparison.OrdinalIgnoreCase))
                return false;
            return true;
        }

        /// <summary>One page of the matching documents, in the query's order.</summary>
        public static WynikZamowien Strona(Zapytanie q, IEnumerable<DokumentZO> kandydaci, DateTimeOffset teraz)
        {
            var pasujace = kandydaci.Where(d => Pasuje(q, d));
            var uporzadkowane = q.ZmienioneOd.HasValue
                ? pasujace.OrderBy(d => d.CzasZmiany).ThenBy(d => d.ID)
                : pasujace.OrderBy(d => d.ID);
            var strona = uporzadkowane.Take(q.Limit + 1).ToList();
            var wiecej = strona.Count > q.Limit;
            if (wiecej) strona.RemoveAt(strona.Count - 1);
            return new WynikZamowien
            {
                Zamowienia = strona.Select(d => d.Widok()).ToList(),
                CzyJestWiecej = wiecej,
                CzasSerwera = Czas.Format(teraz),
            };
        }
    }
}
