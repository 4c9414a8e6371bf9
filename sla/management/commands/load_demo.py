"""Demo data for `make run`: a desk with something true to show on every page.

Twelve customers on both seed terms with their contact persons and users, three staff members
and canned replies; then a story told relative to now through the services the pages call:
tickets in every state (past their service-start deadline, waiting for the customer with the
48-hour clock running, closed by the sweep), logged time, outages (one ongoing, planned work
inside and outside the maintenance windows, a service-wide one last month), last month's stored
reports with their discounts, a claim, and a delivery that is late.

What a service wrote is dated when the story says it happened, and its e-mail counts as sent
then: the demo mails nobody. The sweeps of `make run`'s beat carry on from there (reminders,
escalations). Development only: it refuses to run unless DEBUG is on.

Safe to run again: customers, users and canned replies are looked up before they are made, and
the story is told once (not when a demo customer has a ticket already).
"""

from __future__ import annotations

import datetime
import zoneinfo
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from rest_framework.authtoken.models import Token

from contracts import services as contract_services
from contracts.models import ContactPerson, Contract, Customer, ServiceTerms
from core.months import previous_month
from sla import claims, monitoring, reports
from sla import services as sla_services
from sla.models import ClaimKind, MonthlyReport, OutageKind, OutageSource, Responsibility
from tickets import notifications
from tickets import services as ticket_services
from tickets.models import (
    CannedReply,
    Category,
    Channel,
    Classification,
    Message,
    NotFaultReason,
    Notification,
    Ticket,
    TicketEvent,
)

DSTNY, TELIA = "dstny-alcom-2022", "telia-smart-connect"

# username, first name, last name, e-mail, password; the first is the administrator.
STAFF = [
    ("staff", "Sara", "Nyberg", "staff@servicedesk.example", "demo-staff-pass"),
    ("linnea", "Linnea", "Sjöberg", "linnea@servicedesk.example", "demo-linnea-pass"),
    ("mika", "Mika", "Lindholm", "mika@servicedesk.example", "demo-mika-pass"),
]


class DemoCustomer(NamedTuple):
    key: str
    name: str
    org_number: str
    language: str
    terms: str
    monthly_fee: Decimal
    signed_ago: int  # days
    delivered_ago: int | None  # days; None: not delivered yet
    contacts: tuple  # (name, e-mail, phone, region): the first is the main contact person
    users: tuple  # (username, password)
    one_time_fee: Decimal = Decimal(0)


CUSTOMERS = [
    DemoCustomer(
        "rederi",
        "Mariehamns Rederi Ab",
        "0145632-5",
        "sv",
        DSTNY,
        Decimal("1250.00"),
        400,
        350,
        (
            ("Anna Eriksson", "anna.eriksson@rederi.example", "+35818123456", ""),
            ("Jonas Mattsson", "jonas.mattsson@rederi.example", "+358407123344", "Helsingfors"),
        ),
        (("rederi", "demo-rederi-pass"),),
    ),
    DemoCustomer(  # not delivered 80 days after signing: its deadline is near
        "bokforing",
        "Ålands Bokföring Ab",
        "2345678-0",
        "sv",
        DSTNY,
        Decimal("420.00"),
        80,
        None,
        (("Johan Karlsson", "johan@bokforing.example", "+35818765432", ""),),
        (("bokforing", "demo-bokforing-pass"),),
    ),
    DemoCustomer(
        "freight",
        "Nordic Freight Oy",
        "1572860-0",
        "en",
        DSTNY,
        Decimal("2890.50"),
        730,
        690,
        (("Mikko Virtanen", "mikko.virtanen@freight.example", "+358401234567", ""),),
        (("freight", "demo-freight-pass"),),
    ),
    DemoCustomer(
        # Delivered 94 days after signing: late (D §8.2), its deduction owed (D §9.1).
        "jomala",
        "Jomala Trädgård Ab",
        "2731854-5",
        "sv",
        DSTNY,
        Decimal("310.00"),
        100,
        6,
        (("Maria Holmström", "maria@jomalatradgard.example", "+35818320100", ""),),
        (("jomala", "demo-jomala-pass"),),
        Decimal("480.00"),
    ),
    DemoCustomer(
        "abo",
        "Åbo Hamnlogistik Oy",
        "3196254-4",
        "en",
        DSTNY,
        Decimal("1640.00"),
        520,
        470,
        (("Sanna Lehtonen", "sanna.lehtonen@hamnlogistik.example", "+358405551234", ""),),
        (("hamn", "demo-hamn-pass"),),
    ),
    DemoCustomer(
        "eckero",
        "Eckerö Camping Ab",
        "3047554-1",
        "sv",
        DSTNY,
        Decimal("185.00"),
        610,
        560,
        (("Peter Sundblom", "peter@eckerocamping.example", "+35818391200", ""),),
        (),
    ),
    DemoCustomer(  # not delivered 100 days after signing: late
        "lemland",
        "Lemland El & VVS Ab",
        "2485154-7",
        "sv",
        DSTNY,
        Decimal("260.00"),
        100,
        None,
        (("Kristina Lundqvist", "kristina@lemlandel.example", "+358457891234", ""),),
        (),
        Decimal("750.00"),
    ),
    DemoCustomer(
        "bygg",
        "Västerås Bygg AB",
        "556677-8899",
        "sv",
        TELIA,
        Decimal("5400.00"),
        300,
        250,
        (
            ("Karin Lind", "karin.lind@vasterasbygg.example", "+46701234567", ""),
            ("Per Ahlgren", "per.ahlgren@vasterasbygg.example", "+46211234567", "Eskilstuna"),
        ),
        (("bygg", "demo-bygg-pass"), ("bygg2", "demo-bygg2-pass")),
    ),
    DemoCustomer(
        "tandvard",
        "Göteborgs Tandvård AB",
        "559012-3450",
        "sv",
        TELIA,
        Decimal("1980.00"),
        120,
        80,
        (("Erik Holm", "erik.holm@tandvard.example", "+46317654321", ""),),
        (("tandvard", "demo-tandvard-pass"),),
    ),
    DemoCustomer(
        "uppsala",
        "Uppsala Redovisning AB",
        "556871-2417",
        "sv",
        TELIA,
        Decimal("890.00"),
        420,
        380,
        (("Lena Berg", "lena.berg@uppsalaredovisning.example", "+4618123456", ""),),
        (("uppsala", "demo-uppsala-pass"),),
    ),
    DemoCustomer(
        "malmo",
        "Malmö Designbyrå AB",
        "556402-2423",
        "en",
        TELIA,
        Decimal("1150.00"),
        200,
        160,
        (("Oscar Nilsson", "oscar@malmodesign.example", "+46406543210", ""),),
        (("malmodesign", "demo-malmodesign-pass"),),
    ),
    DemoCustomer(
        "skog",
        "Norrlands Skog AB",
        "559214-2417",
        "sv",
        TELIA,
        Decimal("2350.00"),
        900,
        860,
        (("Ingrid Öberg", "ingrid.oberg@norrlandsskog.example", "+4660123456", ""),),
        (),
    ),
]

CANNED_REPLIES = [
    (
        "Vi felsöker",
        "sv",
        "Hej!\n\nTack för felanmälan {ticket.number}. Vi har börjat felsöka och hör av oss så snart vi vet "
        "mer.\n\nVänliga hälsningar\n{agent.first_name}",
    ),
    (
        "We are looking into it",
        "en",
        "Hello,\n\nThank you for reporting {ticket.number}. We have started looking into it and will be in "
        "touch as soon as we know more.\n\nBest regards\n{agent.first_name}",
    ),
    (
        "Be om A- och B-nummer",
        "sv",
        "Hej!\n\nFör att kunna felsöka behöver vi A-nummer (numret som ringdes), B-nummer (numret som "
        "ringde) och klockslag för ett samtal som misslyckades.\n\nVänliga hälsningar\n{agent.first_name}",
    ),
    (
        "Ask for A- and B-numbers",
        "en",
        "Hello,\n\nTo trace the fault we need the A-number (the number called), the B-number (the number "
        "calling) and the time of one call that failed.\n\nBest regards\n{agent.first_name}",
    ),
]


class Command(BaseCommand):
    help = "Load the demo desk (development only, idempotent) and print the logins."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "The demo data is for development only: load_demo runs only with DEBUG=true, "
                "never with production settings."
            )
        with transaction.atomic():
            staff, logins = self._staff()
            contracts, users = self._customers(logins)
            self._canned_replies()
            told = not Ticket.objects.filter(customer__org_number__in=[c.org_number for c in CUSTOMERS]).exists()
            if told:
                Story(staff=staff, contracts=contracts, users=users, now=timezone.now()).tell()
        self._print(staff["staff"], logins, told)

    def _staff(self):
        User = get_user_model()
        staff, logins = {}, []
        for index, (username, first, last, email, password) in enumerate(STAFF):
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "email": email,
                    "first_name": first,
                    "last_name": last,
                    "is_staff": True,
                    "is_superuser": index == 0,
                },
            )
            if created:
                user.set_password(password)
                user.save()
            staff[username] = user
            logins.append(("staff (admin)" if index == 0 else "staff", username, password, "–"))
        Token.objects.get_or_create(user=staff["staff"])
        return staff, logins

    def _customers(self, logins):
        today = timezone.localdate()
        contracts, users = {}, {}
        for demo in CUSTOMERS:
            customer = Customer.objects.filter(org_number=demo.org_number).first()
            if customer is None:
                customer = contract_services.customer_create(
                    name=demo.name, org_number=demo.org_number, language=demo.language
                )
                for index, (name, email, phone, region) in enumerate(demo.contacts):
                    ContactPerson.objects.create(
                        customer=customer, name=name, email=email, phone=phone, region=region, is_primary=index == 0
                    )
                terms = ServiceTerms.objects.version_in_force(demo.terms)
                assert terms is not None  # the seed terms are always there
                contract_services.contract_create(
                    customer=customer,
                    terms=terms,
                    monthly_fee=demo.monthly_fee,
                    one_time_fee=demo.one_time_fee,
                    signed_on=today - datetime.timedelta(days=demo.signed_ago),
                    delivered_on=(
                        today - datetime.timedelta(days=demo.delivered_ago) if demo.delivered_ago is not None else None
                    ),
                )
            contracts[demo.key] = Contract.objects.filter(customer=customer).order_by("pk").first()
            domain = demo.contacts[0][1].split("@")[1]
            for username, password in demo.users:
                user = get_user_model().objects.filter(username=username).first()
                if user is None:
                    user = contract_services.customer_user_create(
                        customer=customer, username=username, email=f"{username}@{domain}", password=password
                    )
                users[username] = user
                logins.append((customer.name, username, password, demo.terms))
        return contracts, users

    def _canned_replies(self):
        for title, language, body in CANNED_REPLIES:
            CannedReply.objects.get_or_create(title=title, language=language, defaults={"body": body})

    def _print(self, admin, logins, told):
        if told:
            self.stdout.write(
                self.style.SUCCESS("Demo data loaded: tickets, outages, reports and a claim, dated from now.")
            )
        else:
            self.stdout.write(self.style.SUCCESS("Demo data is in place already; nothing was added."))
        self.stdout.write("Sign in with:")
        width = max(len(row[0]) for row in logins)
        for who, username, password, slug in logins:
            self.stdout.write(f"  {who:<{width}}  {username:<13} {password:<25} {slug}")
        self.stdout.write(f"  API token of {admin.username}: {Token.objects.get(user=admin).key}")


class Story:
    """The desk's recent past, each step taken through its service at the moment it happened."""

    def __init__(self, *, staff: dict, contracts: dict, users: dict, now: datetime.datetime):
        self.now = now.replace(second=0, microsecond=0)
        self.staff = staff
        self.contracts = contracts
        self.users = users
        # Who reports for a customer through the portal: its first user.
        self.reporter = {demo.key: users[demo.users[0][0]] for demo in CUSTOMERS if demo.users}
        self.dstny = contracts["rederi"].terms

    def tell(self) -> None:
        rederi_outage = self._last_month_outages()
        fault_last_month = self._tickets(rederi_outage)
        self._recent_outages()
        stored_at = self._reports()
        self._claim(fault_last_month, stored_at)

    # Time ------------------------------------------------------------------------------------

    def ago(self, **delta) -> datetime.datetime:
        return self.now - datetime.timedelta(**delta)

    def working_day(self, terms: ServiceTerms, days_back: int, hour: int, minute: int = 0) -> datetime.datetime:
        """hh:mm on the working day `days_back` working days before today, in the terms' zone."""
        zone = zoneinfo.ZoneInfo(terms.timezone)
        day = self.now.astimezone(zone).date()
        while days_back:
            day -= datetime.timedelta(days=1)
            days_back -= terms.calendar.is_working_day(day)
        return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone)

    def last_month(self, terms: ServiceTerms, day: int, hour: int, minute: int = 0) -> datetime.datetime:
        """hh:mm on the first working day from the `day`th of last month, in the terms' zone.
        Last month is the server's (as the reports are stored), though Åland's is an hour ahead."""
        zone = zoneinfo.ZoneInfo(terms.timezone)
        date = previous_month(timezone.localdate(self.now)).replace(day=day)
        while not terms.calendar.is_working_day(date):
            date += datetime.timedelta(days=1)
        return datetime.datetime.combine(date, datetime.time(hour, minute), tzinfo=zone)

    def dated(self, moment: datetime.datetime, service, **kwargs):
        """Run a service and date what it wrote at `moment`: messages, history, and its e-mail,
        written out and counted as sent then (the demo mails nobody)."""
        last = {
            model: model.objects.aggregate(last=Max("pk"))["last"] or 0
            for model in (Message, TicketEvent, Notification)
        }
        result = service(**kwargs)
        Message.objects.filter(pk__gt=last[Message]).update(created_at=moment)
        TicketEvent.objects.filter(pk__gt=last[TicketEvent]).update(at=moment)
        for mail in Notification.objects.filter(pk__gt=last[Notification]).select_related("ticket"):
            mail.recipients = notifications.recipients_for(mail.ticket, mail.kind)
            mail.subject, mail.body = notifications.render(mail)
            mail.created_at = mail.sent_at = moment
            mail.save()
        return result

    # Ticket steps ----------------------------------------------------------------------------

    def report(
        self,
        key: str,
        at: datetime.datetime,
        description: str,
        *,
        by=None,
        channel: str = Channel.WEB,
        category: str = Category.FAULT,
        a_number: str = "",
        b_number: str = "",
        urgent: bool = False,
    ) -> Ticket:
        fault_at = at - datetime.timedelta(minutes=10) if category == Category.FAULT else None
        return self.dated(
            at,
            ticket_services.ticket_create,
            contract=self.contracts[key],
            description=description,
            channel=channel,
            reported_by=by or self.reporter.get(key),
            category=category,
            urgent=urgent,
            a_number=a_number,
            b_number=b_number,
            fault_occurred_at=fault_at,
            received_at=at,
            now=at,
        )

    def start(self, ticket: Ticket, who: str, at: datetime.datetime) -> Ticket:
        return self.dated(at, ticket_services.ticket_start, ticket=ticket, actor=self.staff[who], now=at)

    def ask(self, ticket: Ticket, who: str, at: datetime.datetime, text: str) -> Ticket:
        return self.dated(
            at, ticket_services.ticket_request_info, ticket=ticket, actor=self.staff[who], message=text, now=at
        )

    def write(self, ticket: Ticket, author, at: datetime.datetime, text: str, *, internal: bool = False) -> Ticket:
        """A message from staff (a user name) or the customer (a user)."""
        actor = self.staff[author] if isinstance(author, str) else author
        ticket, _ = self.dated(
            at,
            ticket_services.ticket_reply,
            ticket=ticket,
            actor=actor,
            message=text,
            internal=internal,
            at=None if actor.is_staff else at,
        )
        return ticket

    def classify(self, ticket: Ticket, who: str, at: datetime.datetime, reason: str | None = None) -> Ticket:
        return self.dated(
            at,
            ticket_services.ticket_classify,
            ticket=ticket,
            actor=self.staff[who],
            classification=Classification.NOT_FAULT if reason else Classification.FAULT,
            not_fault_reason=reason,
        )

    def resolve(self, ticket: Ticket, who: str, at: datetime.datetime, text: str) -> Ticket:
        return self.dated(
            at, ticket_services.ticket_resolve, ticket=ticket, actor=self.staff[who], message=text, now=at
        )

    def close(self, ticket: Ticket, who: str, at: datetime.datetime, **kwargs) -> Ticket:
        return self.dated(at, ticket_services.ticket_close, ticket=ticket, actor=self.staff[who], now=at, **kwargs)

    def log(self, ticket: Ticket, who: str, at: datetime.datetime, minutes: int, note: str) -> None:
        ticket_services.time_log(
            ticket=ticket, actor=self.staff[who], minutes=minutes, worked_on=timezone.localdate(at), note=note
        )

    # The story -------------------------------------------------------------------------------

    def _tickets(self, rederi_outage: tuple) -> Ticket:
        """Tickets in every state, numbered roughly in the order they came. Returns last month's
        fault, which the claim cites."""
        fault = self._last_months_fault(*rederi_outage)
        self._past_deadline()
        self._waiting()
        self._resolved_and_closed()
        self._new_and_in_progress()
        return fault

    def _past_deadline(self) -> None:
        # Two working days ago and never started: past its four business hours (D §16.8).
        late = self.report(
            "rederi",
            self.working_day(self.dstny, 2, 9, 40),
            "Ingen av våra anknytningar på kontoret i Mariehamn kan ringa ut sedan i morse. Inkommande samtal "
            "går fram, men utgående ger upptagetton direkt. Gäller alla 14 anknytningar; vi har startat om "
            "telefonerna utan resultat.",
            by=self.staff["staff"],
            channel=Channel.PHONE,
            a_number="+35818123456",
            b_number="+358407123344",
            urgent=True,
        )
        late = self.dated(
            self.working_day(self.dstny, 2, 9, 45),
            ticket_services.ticket_assign,
            ticket=late,
            actor=self.staff["staff"],
            assignee=self.staff["linnea"],
        )
        self.write(
            late,
            "staff",
            self.working_day(self.dstny, 1, 8, 50),
            "Anna ringde igen: de vill ha besked före lunch, säljarna kan inte ringa kunder.",
            internal=True,
        )

        # Started two hours after its deadline, and the customer has written since.
        received = self.working_day(self.dstny, 3, 14, 10)
        drops = self.report(
            "freight",
            received,
            "Calls to our customer service number drop after about 30 seconds. It started around 13:45 and "
            "hits roughly one call in five: callers hear silence, then the line goes dead.",
            a_number="+35818527100",
            b_number="+358405551234",
        )
        assert drops.service_start_due is not None  # a fault report has its deadline
        started = drops.service_start_due + datetime.timedelta(hours=2, minutes=15)
        drops = self.start(drops, "mika", started)
        self.classify(drops, "mika", started)
        self.write(
            drops,
            "mika",
            started + datetime.timedelta(minutes=30),
            "Pcap från SBC: BYE från operatörssidan efter 32 s, session timer. Eskalerat till Dstny NOC "
            "(deras ärende 58213).",
            internal=True,
        )
        self.write(
            drops,
            "mika",
            started + datetime.timedelta(hours=3),
            "We have traced the dropped calls to a session timer on the operator's side and escalated it "
            "to them. We will update you tomorrow morning.",
        )
        self.log(drops, "mika", started, 45, "Spårning i SBC-loggarna")
        self.write(
            drops,
            self.reporter["freight"],
            self.working_day(self.dstny, 1, 9, 55),
            "Thanks. It happened twice again this morning, at 09:12 and 09:40, both calls from +358 40 555 1234.",
        )

    def _waiting(self) -> None:
        # The 48-hour reply time runs out tomorrow (D §16.7).
        forward = self.report(
            "rederi",
            self.ago(hours=26),
            "Vidarekopplingen från växelnumret till jourtelefonen fungerar inte efter kl. 17. Samtalen går "
            "till röstbrevlådan i stället för till jourtelefonen +358 40 712 3344.",
            a_number="+35818123456",
            b_number="+358407123344",
        )
        self.start(forward, "linnea", self.ago(hours=25))
        self.ask(
            forward,
            "linnea",
            self.ago(hours=20),
            "Hej Anna! Vilken tidsstyrning använder ni för växelnumret, ”Kontorstid” eller ”Jour vardagar”? "
            "Ge gärna ett exempel på ett samtal som gick fel, med klockslag och numret som ringde.",
        )

        # A few hours left; its reminder is due, and `make run`'s beat sends it.
        softphone = self.report(
            "abo",
            self.ago(hours=46),
            "Our new colleague's extension 2045 cannot sign in to the softphone app: it says "
            "“Registration failed (403)”. The desk phone on the same extension works.",
            channel=Channel.EMAIL,
            category=Category.SUPPORT,
        )
        self.start(softphone, "mika", self.ago(hours=45))
        self.ask(
            softphone,
            "mika",
            self.ago(hours=41),
            "Could you send us a screenshot of the error and tell us which version of the app is installed "
            "(Settings → About)?",
        )

        # Telia's terms set no reply time: it waits without a clock.
        roaming = self.report(
            "skog",
            self.ago(days=3),
            "Mobilanknytningarna i skogslaget får inga samtal från växeln när de roamar i Norge. Samtalen "
            "ringer fram hos den som ringer men mobilen ringer aldrig.",
            by=self.staff["linnea"],
            channel=Channel.PHONE,
            a_number="+4660123456",
            b_number="+46703456789",
        )
        self.start(roaming, "linnea", self.ago(days=3) + datetime.timedelta(minutes=20))
        self.ask(
            roaming,
            "linnea",
            self.ago(days=2, hours=22),
            "Vilka mobilnummer gäller det, och vilket norskt nät är telefonerna inloggade i när det händer?",
        )

        # Asked four days ago, never answered: the sweep closed it yesterday (D §16.7).
        noise = self.report(
            "eckero",
            self.ago(days=4, hours=2),
            "Peter Sundblom ringer: brus på linjen vid samtal till receptionen, mest på inkommande samtal "
            "från mobiler.",
            by=self.staff["staff"],
            channel=Channel.PHONE,
            a_number="+35818391200",
            b_number="+358457891234",
        )
        self.start(noise, "staff", self.ago(days=4, hours=1))
        noise = self.ask(
            noise,
            "staff",
            self.ago(days=3, hours=2),
            "Hej Peter! Vi har inte kunnat återskapa bruset. Kan ni ringa ett testsamtal och skicka "
            "oss klockslaget och numret ni ringde från?",
        )
        assert noise.customer_reply_due is not None  # it waits for the customer
        swept_at = noise.customer_reply_due + datetime.timedelta(minutes=3)
        self.dated(swept_at, ticket_services.close_unanswered, now=swept_at)

    def _resolved_and_closed(self) -> None:
        audio = self.report(
            "jomala",
            self.ago(days=2, hours=3),
            "Samtal till butiken kopplas fram, men vi hör inte den som ringer (ljud bara åt ena hållet). "
            "Det gäller samtal från Telia-abonnemang.",
            a_number="+35818320100",
            b_number="+46701234567",
        )
        audio = self.start(audio, "linnea", self.ago(days=2, hours=2, minutes=40))
        self.classify(audio, "linnea", self.ago(days=2, hours=1))
        self.log(audio, "linnea", self.ago(days=2), 40, "Codec-förhandling, provsamtal")
        self.resolve(
            audio,
            "linnea",
            self.ago(hours=5),
            "Codec-förhandlingen mot en operatör var fel inställd efter leveransen. Vi har rättat den och "
            "provringt från flera nät. Hör av er om ljudet försvinner igen.",
        )

        music = self.report(
            "bygg",
            self.ago(days=1, hours=6),
            "Kön i växeln spelar inte upp väntmusiken längre: de som ringer hör bara tystnad och lägger på.",
            a_number="+46211234567",
            b_number="+46317654321",
        )
        music = self.start(music, "linnea", self.ago(days=1, hours=5))
        self.classify(music, "linnea", self.ago(days=1, hours=5))
        repeated = self.report(
            "bygg",
            self.ago(days=1, hours=4),
            "Hej, ingen väntmusik i kön sedan i går. /Per",
            by=self.users["bygg2"],
            channel=Channel.EMAIL,
            category=Category.SUPPORT,
        )
        self.close(repeated, "linnea", self.ago(days=1, hours=3), duplicate_of=music)
        self.resolve(
            music,
            "linnea",
            self.ago(hours=3),
            "Ljudfilen för väntmusiken hade fallit bort vid en uppdatering. Den är tillbaka, och vi har provringt kön.",
        )

        phone = self.report(
            "tandvard",
            self.ago(days=6),
            "Receptionens bordstelefon (Yealink T54W) startar om flera gånger om dagen, mitt i samtal.",
            by=self.staff["mika"],
            channel=Channel.PHONE,
            a_number="+46317654321",
            b_number="+46703456789",
        )
        self.start(phone, "mika", self.ago(days=6) + datetime.timedelta(minutes=30))
        self.classify(phone, "mika", self.ago(days=5, hours=4), NotFaultReason.CUSTOMER_EQUIPMENT)
        self.write(
            phone,
            "mika",
            self.ago(days=5, hours=4),
            "Telefonen får för lite ström från er PoE-switch när skärmen lyser. Koppla den till en annan "
            "port eller använd nätadaptern. Felet ligger inte i tjänsten, så vi stänger ärendet.",
        )
        self.log(phone, "mika", self.ago(days=5, hours=4), 20, "Felsökning av kundens bordstelefon")
        self.close(phone, "mika", self.ago(days=5))
        # Not the service's fault, so the help is billed (D §15.3), the latest of it today.
        self.log(phone, "mika", self.now, 25, "Hjälpte kunden flytta telefonen till en annan switchport")

    def _new_and_in_progress(self) -> None:
        self.report(
            "uppsala",
            self.ago(minutes=35),
            "Vi vill lägga till två anknytningar för nyanställda från den 1:a nästa månad, med samma "
            "behörigheter som 214 och 215.",
            category=Category.SUPPORT,
        )
        defect = self.report(
            "jomala",
            self.ago(days=3),
            "Vid leveransen lovades tre nummer i svarsgruppen ”Butik”, men bara två är inlagda. Numret "
            "+358 18 32 100 saknas.",
            category=Category.DELIVERY_DEFECT,
        )
        self.start(defect, "mika", self.ago(days=3) + datetime.timedelta(hours=1))
        self.log(defect, "mika", self.ago(days=2), 30, "Genomgång av leveransprotokollet")

        move = self.report(
            "malmo",
            self.ago(days=5),
            "We are moving our office to Stora Nygatan 12 next week. Please move the emergency (112) address "
            "of our eight desk phones and change the opening-hours greeting.",
            category=Category.SUPPORT,
        )
        self.start(move, "linnea", self.ago(days=5) + datetime.timedelta(hours=2))
        self.log(move, "linnea", self.ago(days=4), 90, "Nödadress för åtta anknytningar")
        self.write(
            move,
            "linnea",
            self.ago(days=4),
            "The emergency address is updated for all eight extensions. We will record the new greeting "
            "as soon as you send us its text.",
        )
        self.log(move, "linnea", self.ago(days=1), 30, "Väntar på hälsningstext")

    def _last_months_fault(self, started: datetime.datetime, ended: datetime.datetime) -> Ticket:
        fault = self.report(
            "rederi",
            started + datetime.timedelta(minutes=12),
            "Anna Eriksson ringer: ingen kommer fram till kontoret, alla inkommande samtal får ”numret kan inte nås”.",
            by=self.staff["staff"],
            channel=Channel.PHONE,
            a_number="+35818123456",
            b_number="+358407123344",
            urgent=True,
        )
        fault = self.start(fault, "staff", started + datetime.timedelta(minutes=17))
        self.classify(fault, "staff", started + datetime.timedelta(minutes=17))
        self.log(fault, "staff", ended, 60, "Felsökning med Dstny under avbrottet")
        self.resolve(
            fault,
            "staff",
            ended + datetime.timedelta(minutes=10),
            "Trunken till kontoret är uppe igen efter ett fel i Dstnys SBC. Inkommande samtal går fram.",
        )
        self.close(fault, "staff", ended + datetime.timedelta(days=2))
        sla_services.outage_register(
            started_at=started,
            ended_at=ended,
            kind=OutageKind.UNPLANNED,
            responsibility=Responsibility.SUPPLIER,
            description="Trunken till Mariehamns Rederis kontor låg nere: inga inkommande samtal.",
            contracts=[self.contracts["rederi"]],
            tickets=[fault],
            actor=self.staff["staff"],
            now=self.now,
        )
        return fault

    # Outages, reports, claim -----------------------------------------------------------------

    def _last_month_outages(self) -> tuple[datetime.datetime, datetime.datetime]:
        """A service-wide fault of two hours (every Dstny contract under the 99.8 % target) and
        one of the rederi's own, registered once its ticket is in. Returns the latter's times."""
        started = self.last_month(self.dstny, 12, 10, 5)
        sla_services.outage_register(
            started_at=started,
            ended_at=started + datetime.timedelta(minutes=125),
            kind=OutageKind.UNPLANNED,
            responsibility=Responsibility.SUPPLIER,
            description="Fel i kärnnätet: samtal till och från alla kunders nummer misslyckades.",
            service=self.dstny.slug,
            actor=self.staff["mika"],
            now=self.now,
        )
        own = self.last_month(self.dstny, 20, 13, 0)
        return own, own + datetime.timedelta(hours=1)

    def _recent_outages(self) -> None:
        dstny = [self.contracts[key] for key in ("rederi", "freight", "jomala", "abo", "eckero")]
        # Planned work inside the maintenance window (D §11.2): announced, not counted.
        night = self.working_day(self.dstny, 3, 22, 0)
        sla_services.outage_register(
            started_at=night,
            ended_at=night + datetime.timedelta(minutes=90),
            kind=OutageKind.PLANNED,
            responsibility=Responsibility.SUPPLIER,
            announced_at=night - datetime.timedelta(days=16),
            description="Programuppdatering av växelplattformen, i servicefönstret.",
            contracts=dstny,
            actor=self.staff["staff"],
            now=self.now,
        )
        # Planned work in office hours on three days' notice: short of D §11.3's two weeks.
        morning = self.working_day(self.dstny, 6, 10, 0)
        sla_services.outage_register(
            started_at=morning,
            ended_at=morning + datetime.timedelta(minutes=40),
            kind=OutageKind.PLANNED,
            responsibility=Responsibility.SUPPLIER,
            announced_at=morning - datetime.timedelta(days=3),
            description="Byte av nätverkskort i SBC 1, flyttat från servicefönstret med kort varsel.",
            contracts=[self.contracts[key] for key in ("rederi", "abo", "eckero")],
            actor=self.staff["staff"],
            now=self.now,
        )
        # Planned work ahead, announced today with two weeks' notice (D §11.3): on the board.
        ahead = datetime.datetime.combine(
            self.now.astimezone(zoneinfo.ZoneInfo(self.dstny.timezone)).date() + datetime.timedelta(days=15),
            datetime.time(23, 0),
            tzinfo=zoneinfo.ZoneInfo(self.dstny.timezone),
        )
        sla_services.outage_register(
            started_at=ahead,
            ended_at=ahead + datetime.timedelta(hours=2),
            kind=OutageKind.PLANNED,
            responsibility=Responsibility.SUPPLIER,
            announced_at=self.now,
            announced_via="email",
            description="Uppgradering av röstbrevlådorna, i servicefönstret.",
            contracts=dstny,
            actor=self.staff["staff"],
            now=self.now,
        )
        ongoing = sla_services.outage_register(
            started_at=self.ago(minutes=40),
            kind=OutageKind.UNPLANNED,
            responsibility=Responsibility.SUPPLIER,
            description="Inkommande samtal når inte växlarna på SBC-kluster 2. Dstny felsöker.",
            contracts=[self.contracts["freight"], self.contracts["abo"]],
            actor=self.staff["mika"],
            now=self.now,
        )
        busy = self.report(
            "freight",
            self.ago(minutes=25),
            "Since about twenty minutes ago none of our incoming calls reach the switchboard; callers get a busy tone.",
            channel=Channel.EMAIL,
            a_number="+35818527100",
            b_number="+358401234567",
            urgent=True,
        )
        sla_services.outage_link_ticket(outage=ongoing, ticket=busy, actor=self.staff["mika"])
        self._from_monitoring()

    def _from_monitoring(self) -> None:
        """What Alertmanager told the desk this morning: one alert drafted an outage of Jomala's
        trunk, still to confirm; one, of a host the desk knows no route for, waits unrouted."""
        began = self.ago(minutes=18)
        monitoring.take(
            [
                monitoring.Notice(
                    source=OutageSource.ALERTMANAGER,
                    fingerprint="5c1e0b7a9d3f2e41",
                    status=monitoring.FIRING,
                    starts_at=began,
                    ends_at=None,
                    labels={
                        "alertname": "SipTrunkDown",
                        "service": self.dstny.slug,
                        "contract": str(self.contracts["jomala"].pk),
                        "severity": "critical",
                    },
                    annotations={"summary": "SIP trunk of Jomala kommun answers no OPTIONS"},
                ),
                monitoring.Notice(
                    source=OutageSource.ALERTMANAGER,
                    fingerprint="8a44f0c2d19e7b35",
                    status=monitoring.FIRING,
                    starts_at=self.ago(minutes=7),
                    ends_at=None,
                    labels={"alertname": "HostDown", "job": "sbc", "instance": "sbc-3.mhq:9100"},
                    annotations={"summary": "sbc-3.mhq does not answer"},
                ),
            ],
            now=self.now,
        )

    def _reports(self) -> datetime.datetime:
        """Last month stored as beat stores it, early on the 1st. Returns when."""
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        first = self.now.astimezone(zone).date().replace(day=1)
        stored_at = min(self.now, datetime.datetime.combine(first, datetime.time(4, 30), tzinfo=zone))
        last = first - datetime.timedelta(days=1)
        reports.store_month(last.year, last.month, now=stored_at)
        return stored_at

    def _claim(self, fault: Ticket, stored_at: datetime.datetime) -> None:
        """The rederi claims last month's discount two days after the report (D §20: in writing,
        citing its ticket)."""
        month = timezone.localdate(fault.received_at).replace(day=1)
        report = MonthlyReport.objects.get(contract=self.contracts["rederi"], month=month)
        filed_at = min(self.now, stored_at + datetime.timedelta(days=2))
        claims.claim_file(
            contract=self.contracts["rederi"],
            kind=ClaimKind.DISCOUNT,
            month=report.month,
            discovered_on=timezone.localdate(filed_at),
            tickets=[fault],
            amount=report.discount_amount,
            description="Tillgängligheten låg under 99,8 % förra månaden: avbrottet i kärnnätet och vårt eget "
            f"avbrott ({fault.number}). Vi begär prisavdrag enligt D §10.3.",
            actor=self.reporter["rederi"],
            now=filed_at,
        )
